"""pytest plugin (pytest11 entry point 'pe_spec'): inert unless --pe-impl or PE_IMPL is set.

It adds the pe-spec options, loads the implementation, selects the hypothesis profile,
measures every property test and writes the reports. Imports nothing heavy until active.
"""
from __future__ import annotations

import dataclasses
import os
import time

import pytest

_STATE_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("pe-spec", "pe-spec conformance checks")
    g.addoption("--pe-impl", default=None, metavar="TARGET",
                help="implementation to check: path/file.py:name or package.module:name (or PE_IMPL)")
    g.addoption("--pe-profile", default=None, choices=("ci", "dev", "thorough"),
                help="hypothesis profile (default: ci, derandomized)")
    g.addoption("--pe-clause", action="append", default=[], metavar="ID",
                help="check only this clause (repeatable)")
    g.addoption("--pe-report", default=None, metavar="FILE.json", help="write the JSON conformance report")
    g.addoption("--pe-markdown", default=None, metavar="FILE.md", help="write the Markdown conformance report")
    g.addoption("--pe-call-timeout", default=None, metavar="SECONDS",
                help="time limit on each call into the implementation (default 300; 0: none; "
                     "or PE_CALL_TIMEOUT, or ini pe_call_timeout)")
    if hasattr(parser, "addini"):
        parser.addini("pe_call_timeout", "time limit in seconds on each call into the implementation (0: none)",
                      default="")


# A target the caller has already imported (pe_spec.runner, which loads it under its own watch),
# so the plugin does not execute the user's module a second time.
_PRELOADED: dict = {}


def preload(target: str, impl) -> None:
    _PRELOADED[target] = impl


def _call_timeout(config: pytest.Config) -> float | None:
    from pe_spec import limits

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
    from pe_spec import limits, outcomes
    # Imported now, not at the first result: hypothesis mixes the literals of every local module
    # loaded when it draws into its choices, so each test (serial, or first on an xdist worker)
    # must draw with the same modules loaded for derandomized runs to agree. (load_profile pins
    # those constants to none; this keeps runs consistent where a hypothesis version cannot.)
    from pe_spec import report  # noqa: F401
    from pe_spec.loading import LoadError, load
    from pe_spec.profiles import DEFAULT_PROFILE, PROFILES, load_profile

    timeout = _call_timeout(config)
    limits.configure(timeout)
    try:
        impl = _PRELOADED[target] if target in _PRELOADED else load(target)
    except LoadError as e:
        pytest.exit(f"pe-spec: {e}", returncode=2)
    profile = config.getoption("--pe-profile") or DEFAULT_PROFILE
    load_profile(profile)
    outcomes.TARGET = target
    config.stash[_STATE_KEY] = {"target": target, "impl": impl, "profile": profile, "results": [],
                                "started": time.time(), "settings": dict(PROFILES[profile]),
                                "limits": {"call_timeout_s": timeout}}
    if not _is_xdist_worker(config):
        config.pluginmanager.register(_XdistController(config.stash[_STATE_KEY]), "pe-spec-xdist-controller")


def active(config: pytest.Config) -> dict | None:
    return config.stash.get(_STATE_KEY, None)


@pytest.fixture(scope="session")
def pe_impl(request: pytest.FixtureRequest):
    state = active(request.config)
    if state is None:
        raise pytest.UsageError("pe-spec property tests need an implementation: --pe-impl FILE.py:NAME or PE_IMPL")
    return state["impl"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if active(config) is None:
        if any(i.get_closest_marker("clause") for i in items):
            pytest.exit("pe-spec: the property tests need an implementation: "
                        "--pe-impl path/to/file.py:name (or PE_IMPL=...)", returncode=2)
        return
    from pe_spec import clauses

    # Only the checks written for the implementation's family apply to it.
    family = active(config)["impl"].family
    other = [i for i in items if (m := i.get_closest_marker("pe_family")) is not None and m.args[0] != family]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [i for i in items if i not in other]
    # Report in registry order (the family's own clauses first), keeping each clause's tests together.
    order = {cid: n for n, cid in enumerate(clauses.ids())}
    rank = lambda i: order.get(m.args[0], len(order)) if (m := i.get_closest_marker("clause")) else len(order)
    items.sort(key=rank)
    wanted = set(config.getoption("--pe-clause") or [])
    if not wanted:
        return
    for cid in wanted:
        clauses.get(cid)  # unknown ids are a usage error
    keep = [i for i in items if (m := i.get_closest_marker("clause")) is None or m.args[0] in wanted]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


def pytest_runtest_setup(item: pytest.Item) -> None:
    if active(item.config) and item.get_closest_marker("clause"):
        from pe_spec import limits, outcomes

        outcomes.begin(item.nodeid)
        limits.reset()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Seed each property test from its check and parametrization, not from its pytest node id.

    Hypothesis's pytest plugin mixes the node id into a parametrized test's derandomized seed (its
    runtest_call wrapper sets it just before this), and the node id is a path relative to pytest's
    rootdir, which for ``--pyargs pe_properties`` is the current directory: the same check run
    from two directories drew different examples. Keyed on the check id and the parameters, the
    ci examples are the same wherever the check runs, installed or editable.
    """
    inner = getattr(getattr(getattr(item, "obj", None), "hypothesis", None), "inner_test", None)
    check_id = getattr(getattr(item, "obj", None), "check_id", None)
    if inner is None or check_id is None:
        return
    params = getattr(getattr(item, "callspec", None), "id", "")
    inner._hypothesis_internal_add_digest = f"pe-spec:{check_id}[{params}]".encode()


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
    if call.when == "call" or (call.when == "setup" and report.outcome != "passed"):
        result = _result(item, marker.args[0], report, call)
        state["results"].append(result)
        report.user_properties.append((_RESULT_PROPERTY, dataclasses.asdict(result)))
    return report


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

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        if not self.order:
            self.order = {nodeid: n for n, nodeid in enumerate(ids)}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, "node", None) is None:    # not relayed from a worker: a serial run
            return
        props = dict(report.user_properties)
        if _CLAUSE_PROPERTY in props:
            self.clause_of[report.nodeid] = props[_CLAUSE_PROPERTY]
        if _RESULT_PROPERTY in props:
            from pe_spec.report import TestResult

            self.state["results"].append(TestResult(**props[_RESULT_PROPERTY]))
        elif report.failed and report.nodeid in self.clause_of:   # the worker crashed mid-test
            from pe_spec.report import TestResult

            dtype = report.nodeid.rpartition("[")[2].rstrip("]") if report.nodeid.endswith("]") else None
            self.state["results"].append(TestResult(
                nodeid=report.nodeid, clause_id=self.clause_of[report.nodeid], dtype=dtype, status="error",
                message=" ".join(str(report.longrepr).split())[:2000]))

    def sort(self) -> None:
        """Registry order of clauses, collection order within a clause (as a serial run reports)."""
        from pe_spec import clauses

        rank = {cid: n for n, cid in enumerate(clauses.ids())}
        self.state["results"].sort(key=lambda r: (rank.get(r.clause_id, len(rank)),
                                                  self.order.get(r.nodeid, len(self.order)), r.nodeid))


def _result(item, clause_id: str, report, call):
    from pe_spec import outcomes
    from pe_spec.report import TestResult

    m = outcomes.MEASURES.get(item.nodeid, outcomes.TestMeasure())
    params = getattr(getattr(item, "callspec", None), "params", {})
    if report.passed:
        status, message = "pass", ""
    elif report.skipped:
        status = "skip"
        message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        message = message.removeprefix("Skipped: ")
    else:
        status, message = _failure(call.excinfo, m)
    return TestResult(nodeid=item.nodeid, clause_id=clause_id, dtype=params.get("dtype"), status=status,
                      message=message, worst_ratio=m.worst_ratio if m.measured else None,
                      worst_at=m.worst_detail, examples=m.examples, unsupported_configs=m.unsupported_configs,
                      duration_s=round(report.duration, 3))


def _failure(excinfo, measure=None) -> tuple[str, str]:
    """A ClauseViolation or an overrun time limit is a failure of the kernel; anything else means
    it could not be checked."""
    from pe_spec.limits import CallTimeout, OutOfMemory
    from pe_spec.outcomes import ClauseViolation

    exc = excinfo.value if excinfo else None
    if isinstance(exc, BaseExceptionGroup):
        found = [e for e in exc.exceptions if isinstance(e, (ClauseViolation, CallTimeout, OutOfMemory))]
        exc = found[0] if found else exc.exceptions[0]
    if isinstance(exc, (ClauseViolation, CallTimeout, OutOfMemory)):
        return "fail", str(exc)
    if type(exc).__name__ == "Unsatisfiable" and measure is not None and measure.unsupported_configs:
        n, total = measure.unsupported_configs, measure.unsupported_configs + measure.examples
        which = "every configuration drawn" if not measure.examples else f"{n} of {total} configurations drawn"
        return "error", (f"the factory raised Unsupported for {which} ({n} of {total}), too few to check "
                         "anything; declare what the kernel supports (dtypes, head_dims, rotary_dims, bases, "
                         "max_position) so that only those are drawn")
    text = " ".join(str(exc).split())
    return "error", f"{type(exc).__name__}: {text if len(text) <= 2000 else text[:1997] + '...'}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = active(session.config)
    if state is None or _is_xdist_worker(session.config):   # an xdist worker: the controller reports
        return
    from pe_spec import report as rep

    controller = session.config.pluginmanager.get_plugin("pe-spec-xdist-controller")
    if controller is not None and controller.order:     # xdist ran the tests: restore the serial order
        controller.sort()
    env = rep.environment(state["profile"], session.config.getoption("hypothesis_seed", None),
                          {**state["settings"], **state["limits"], "isolation": "none (in-process pytest)"})
    state["report"] = built = rep.build(state["target"], state["impl"], state["results"], env, state["started"])
    if session.config.getoption("--pe-report"):
        rep.write_json(session.config.getoption("--pe-report"), built)
    if session.config.getoption("--pe-markdown"):
        rep.write_atomic(session.config.getoption("--pe-markdown"), rep.to_markdown(built))
