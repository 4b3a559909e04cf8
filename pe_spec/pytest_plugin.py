"""pytest plugin (pytest11 entry point 'pe_spec'): inert unless --pe-impl or PE_IMPL is set.

It adds the pe-spec options, loads the implementation, selects the hypothesis profile,
measures every property test and writes the reports. Imports nothing heavy until active.
"""
from __future__ import annotations

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the pe-spec clause a property test checks")
    config.addinivalue_line("markers", "pe_family(name): the encoding family whose implementations a test checks")
    target = config.getoption("--pe-impl") or os.environ.get("PE_IMPL")
    if not target:
        return
    from pe_spec import outcomes
    from pe_spec.loading import LoadError, load
    from pe_spec.profiles import DEFAULT_PROFILE, PROFILES, load_profile

    try:
        impl = load(target)
    except LoadError as e:
        pytest.exit(f"pe-spec: {e}", returncode=2)
    profile = config.getoption("--pe-profile") or DEFAULT_PROFILE
    load_profile(profile)
    outcomes.TARGET = target
    config.stash[_STATE_KEY] = {"target": target, "impl": impl, "profile": profile, "results": [],
                                "started": time.time(), "settings": dict(PROFILES[profile])}


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
        from pe_spec import outcomes

        outcomes.begin(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    state = active(item.config)
    marker = item.get_closest_marker("clause")
    if state is None or marker is None:
        return report
    if call.when == "call" or (call.when == "setup" and report.outcome != "passed"):
        state["results"].append(_result(item, marker.args[0], report, call))
    return report


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
        status, message = _failure(call.excinfo)
    return TestResult(nodeid=item.nodeid, clause_id=clause_id, dtype=params.get("dtype"), status=status,
                      message=message, worst_ratio=m.worst_ratio if m.measured else None,
                      worst_at=m.worst_detail, examples=m.examples, unsupported_configs=m.unsupported_configs,
                      duration_s=round(report.duration, 3))


def _failure(excinfo) -> tuple[str, str]:
    """A ClauseViolation is a failure of the kernel; anything else means it could not be checked."""
    from pe_spec.outcomes import ClauseViolation

    exc = excinfo.value if excinfo else None
    if isinstance(exc, BaseExceptionGroup):
        found = [e for e in exc.exceptions if isinstance(e, ClauseViolation)]
        exc = found[0] if found else exc.exceptions[0]
    if isinstance(exc, ClauseViolation):
        return "fail", str(exc)
    return "error", f"{type(exc).__name__}: {exc}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = active(session.config)
    if state is None:
        return
    from pe_spec import report as rep

    env = rep.environment(state["profile"], session.config.getoption("hypothesis_seed", None), state["settings"])
    state["report"] = built = rep.build(state["target"], state["impl"], state["results"], env, state["started"])
    if session.config.getoption("--pe-report"):
        rep.write_json(session.config.getoption("--pe-report"), built)
    if session.config.getoption("--pe-markdown"):
        rep.write_atomic(session.config.getoption("--pe-markdown"), rep.to_markdown(built))
