"""pytest plugin (pytest11 entry point 'pe_spec'): inert unless --pe-impl or PE_IMPL is set.

It adds the pe-spec options, loads the implementation, keeps the tests that apply to its family
(in report order), runs each through the clause engine (pe_properties.engine, seeded and shrunk
exactly as ``pe-spec check`` does) and writes the reports. Imports nothing heavy until active.
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

_STATE_KEY = pytest.StashKey[dict]()
_RESULT_KEY = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("pe-spec", "pe-spec conformance checks")
    g.addoption("--pe-impl", default=None, metavar="TARGET",
                help="implementation to check: path/file.py:name or package.module:name (or PE_IMPL)")
    g.addoption("--pe-profile", default=None, choices=("ci", "dev", "thorough"),
                help="hypothesis profile (default: ci, derandomized)")
    g.addoption("--pe-clause", action="append", default=[], metavar="ID",
                help="check only this clause (repeatable)")
    g.addoption("--pe-seed", default=None, type=int, metavar="N",
                help="seed of the examples (dev/thorough draw a fresh one per run and report it)")
    g.addoption("--pe-report", default=None, metavar="FILE.json", help="write the JSON conformance report")
    g.addoption("--pe-markdown", default=None, metavar="FILE.md", help="write the Markdown conformance report")
    g.addoption("--pe-call-timeout", default=None, metavar="SECONDS",
                help="time limit on each call into the implementation (default 300; 0: none; "
                     "or PE_CALL_TIMEOUT, or ini pe_call_timeout)")
    if hasattr(parser, "addini"):
        parser.addini("pe_call_timeout", "time limit in seconds on each call into the implementation (0: none)",
                      default="")


def _call_timeout(config: pytest.Config) -> float | None:
    from pe_properties import limits

    for source, value in (("--pe-call-timeout", config.getoption("--pe-call-timeout")),
                          (limits.ENV_CALL_TIMEOUT, os.environ.get(limits.ENV_CALL_TIMEOUT)),
                          ("pe_call_timeout", config.getini("pe_call_timeout"))):
        if value not in (None, ""):
            try:
                return limits.parse_timeout(value)
            except ValueError as e:
                raise pytest.UsageError(f"pe-spec: {source}: {e}") from None
    return limits.DEFAULT_CALL_TIMEOUT


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the pe-spec clause a property test checks")
    config.addinivalue_line("markers", "pe_family(name): the encoding family whose implementations a test checks")
    target = config.getoption("--pe-impl") or os.environ.get("PE_IMPL")
    if not target:
        return
    from pe_properties import limits, outcomes
    from pe_properties.loading import LoadError, load

    from pe_spec.harness.profiles import DEFAULT_PROFILE, PROFILES, run_settings

    timeout = _call_timeout(config)
    limits.configure(timeout)
    try:
        impl = load(target)
    except LoadError as e:
        pytest.exit(f"pe-spec: {e}", returncode=2)
    profile = config.getoption("--pe-profile") or DEFAULT_PROFILE
    # Every xdist worker draws from the controller's seed (a fresh dev seed is chosen once).
    seed = config.workerinput.get("pe_seed") if _is_xdist_worker(config) else config.getoption("--pe-seed")
    settings = run_settings(profile, seed)
    outcomes.TARGET = target
    config.stash[_STATE_KEY] = {"target": target, "impl": impl, "profile": profile, "results": [],
                                "started": time.time(), "settings": settings, "budgets": {},
                                "profile_settings": dict(PROFILES[profile]),
                                "limits": {"call_timeout_s": timeout}}
    if not _is_xdist_worker(config):
        config.pluginmanager.register(_XdistController(config.stash[_STATE_KEY]), "pe-spec-xdist-controller")


def active(config: pytest.Config) -> dict | None:
    return config.stash.get(_STATE_KEY, None)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    """Import the property test modules under their installed name (pe_properties.*).

    pytest names a test module after its directory: in an editable install that is properties/,
    so it would import a second copy of every property module (properties.engine beside
    pe_properties.engine, each with its own registry and exception classes). Collected under
    the canonical name, the tests, the engine and the cases are the same modules every route uses.
    """
    name = _property_module_name(Path(module_path))
    if name is None:
        return None
    module = _PropertyModule.from_parent(parent, path=Path(module_path))
    module.canonical_name = name
    return module


class _PropertyModule(pytest.Module):
    canonical_name = ""

    def _getobj(self):
        import importlib

        return importlib.import_module(self.canonical_name)


def _property_module_name(path: Path) -> str | None:
    """'pe_properties.rope.test_rope' for a file of the installed pe_properties package, else None."""
    import pe_properties

    root = Path(pe_properties.__file__).resolve().parent
    try:
        rel = path.resolve().relative_to(root)
    except ValueError:
        return None
    return ".".join(["pe_properties", *rel.with_suffix("").parts])


class _Runner:
    """What a property test calls: run one check in one dtype through the engine, keep its result
    for the report, and end the test the way the result says."""

    def __init__(self, state: dict, item: pytest.Item) -> None:
        self.state, self.item = state, item

    @property
    def impl(self):
        return self.state["impl"]

    def run(self, check_id: str, dtype: str) -> None:
        from pe_properties import engine

        settings = self.state["settings"]
        budget = self.state["budgets"].setdefault(engine.CHECKS[check_id].clause_id, settings.shrink_budget())
        result = engine.run_test(check_id, self.state["impl"], dtype, settings, budget)
        self.item.stash[_RESULT_KEY] = result
        if result.status == "skip":
            pytest.skip(result.message)
        if result.status in ("fail", "error"):
            pytest.fail(result.message, pytrace=False)


@pytest.fixture
def pe_run(request: pytest.FixtureRequest) -> _Runner:
    state = active(request.config)
    if state is None:
        raise pytest.UsageError("pe-spec property tests need an implementation: --pe-impl FILE.py:NAME or PE_IMPL")
    return _Runner(state, request.node)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if active(config) is None:
        if any(i.get_closest_marker("clause") for i in items):
            pytest.exit("pe-spec: the property tests need an implementation: "
                        "--pe-impl path/to/file.py:name (or PE_IMPL=...)", returncode=2)
        return
    from pe_spec.spec import clauses

    family = active(config)["impl"].family
    wanted = set(config.getoption("--pe-clause") or [])
    for cid in wanted:
        try:
            clauses.get(cid)
        except KeyError as e:
            raise pytest.UsageError(f"pe-spec: {e.args[0]}") from None
    # Only the checks that apply to the implementation's family (and the chosen clauses), in
    # report order: the family's clauses, then the universal ones, each clause's tests together.
    order = {c.id: n for n, c in enumerate(clauses.applicable(family))}

    def keep(item: pytest.Item) -> bool:
        clause, fam = item.get_closest_marker("clause"), item.get_closest_marker("pe_family")
        if clause is None:
            return True
        return (clause.args[0] in order and (fam is None or fam.args[0] == family)
                and (not wanted or clause.args[0] in wanted))

    dropped = [i for i in items if not keep(i)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if keep(i)]
    rank = lambda i: order.get(m.args[0], len(order)) if (m := i.get_closest_marker("clause")) else len(order)
    items.sort(key=rank)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if active(item.config) and item.get_closest_marker("clause"):
        from pe_properties import limits

        limits.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    state = active(item.config)
    marker = item.get_closest_marker("clause")
    if state is None or marker is None:
        return report
    # Under pytest-xdist the controller learns each test's clause and result from the report
    # (user_properties travel with it): see _XdistController.
    report.user_properties.append((_CLAUSE_PROPERTY, marker.args[0]))
    result = item.stash.get(_RESULT_KEY, None) if call.when == "call" else None
    if result is None and report.outcome != "passed" and call.when in ("setup", "call"):
        result = _harness_error(item, marker.args[0], report)     # the engine never ran (a fixture failed)
    if result is not None:
        state["results"].append(result)
        report.user_properties.append((_RESULT_PROPERTY, dataclasses.asdict(result)))
    return report


def _harness_error(item: pytest.Item, clause_id: str, report):
    from pe_spec.harness.report import TestResult

    params = getattr(getattr(item, "callspec", None), "params", {})
    check_id = getattr(getattr(item, "obj", None), "check_id", clause_id)
    return TestResult(nodeid=f"{check_id}[{params.get('dtype')}]", clause_id=clause_id, dtype=params.get("dtype"),
                      status="error", message=" ".join(str(report.longrepr).split())[:2000])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist (controller): hand every worker this run's seed base."""
    state = active(node.config)
    if state is not None:
        node.workerinput["pe_seed"] = state["settings"].seed


_CLAUSE_PROPERTY, _RESULT_PROPERTY = "pe_spec_clause", "pe_spec_result"


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class _XdistController:
    """pytest-xdist's controller runs no tests: it collects the results the workers attach to
    their reports (and an error for a test whose worker crashed), so that it alone writes the
    reports, in the serial run's order, with the same verdicts."""

    def __init__(self, state: dict) -> None:
        self.state = state
        self.clause_of: dict[str, str] = {}
        self.order: dict[str, int] = {}
        self.nodeid_of: dict[str, str] = {}   # engine test id -> pytest node id

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        if not self.order:
            self.order = {nodeid: n for n, nodeid in enumerate(ids)}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, "node", None) is None:    # not relayed from a worker: a serial run
            return
        from pe_spec.harness.report import TestResult

        props = dict(report.user_properties)
        if _CLAUSE_PROPERTY in props:
            self.clause_of[report.nodeid] = props[_CLAUSE_PROPERTY]
        if _RESULT_PROPERTY in props:
            self.state["results"].append(TestResult(**props[_RESULT_PROPERTY]))
            self.nodeid_of[props[_RESULT_PROPERTY]["nodeid"]] = report.nodeid
        elif report.failed and report.nodeid in self.clause_of:   # the worker crashed mid-test
            dtype = report.nodeid.rpartition("[")[2].rstrip("]") if report.nodeid.endswith("]") else None
            test = report.nodeid.split("::")[-1].split("[")[0]
            self.state["results"].append(TestResult(
                nodeid=f"{self.clause_of[report.nodeid]}[{dtype}]", clause_id=self.clause_of[report.nodeid],
                dtype=dtype, status="error",
                message=f"{test}: " + " ".join(str(report.longrepr).split())[:2000]))
            self.nodeid_of[self.state["results"][-1].nodeid] = report.nodeid

    def sort(self) -> None:
        """Registry order of clauses, collection order within a clause (as a serial run reports)."""
        from pe_spec.spec import clauses

        rank = {cid: n for n, cid in enumerate(clauses.ids())}
        where = lambda r: self.order.get(self.nodeid_of.get(r.nodeid, ""), len(self.order))
        self.state["results"].sort(key=lambda r: (rank.get(r.clause_id, len(rank)), where(r), r.nodeid))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = active(session.config)
    if state is None or _is_xdist_worker(session.config):   # an xdist worker: the controller reports
        return
    from pe_spec.harness import render
    from pe_spec.harness import report as rep
    from pe_spec.harness.profiles import shrink_settings

    controller = session.config.pluginmanager.get_plugin("pe-spec-xdist-controller")
    if controller is not None and controller.order:     # xdist ran the tests: restore the serial order
        controller.sort()
    settings = state["settings"]
    env = rep.environment(state["profile"], settings.seed,
                          {**state["profile_settings"], **shrink_settings(settings),
                           **state["limits"], "isolation": "none (in-process pytest)"})
    from pe_properties.diagnosis import diagnose

    diagnosis = diagnose(state["impl"], state["results"]) if state["results"] else []
    state["report"] = built = rep.build(state["target"], state["impl"], state["results"], env, state["started"],
                                        diagnosis=diagnosis)
    if session.config.getoption("--pe-report"):
        render.write_json(session.config.getoption("--pe-report"), built)
    if session.config.getoption("--pe-markdown"):
        render.write_atomic(session.config.getoption("--pe-markdown"), render.to_markdown(built))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """After pytest's own summary: the diagnosis (what is most likely wrong), as `pe-spec check` opens
    its verdict with it."""
    state = active(config)
    if state is None or "report" not in state:
        return
    from pe_spec.harness.render import diagnosis_lines, verdict_line

    lines = diagnosis_lines(state["report"])
    if lines:
        terminalreporter.section("pe-spec diagnosis")
        for line in lines:
            terminalreporter.write_line(line)
    terminalreporter.write_line(verdict_line(state["report"]))
