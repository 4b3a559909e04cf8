"""The check process: what `pe-spec check` runs in a child (``python -m pe_spec.runner SPEC``).

The parent (pe_spec.supervisor) passes SPEC as one JSON argument: the target, profile, clauses,
seed, per-call time limit, memory limit and the file descriptor of the event line. This process:

- limits its own memory (RLIMIT_DATA), so an implementation that allocates without bound gets
  a MemoryError / allocation error here instead of the machine's OOM killer;
- enables faulthandler (a segfault prints the Python stack to stderr, and SIGUSR1 from the
  parent's watchdog dumps every thread's stack before the kill);
- loads the implementation under the call time limit and runs the property tests with pytest,
  its terminal output off: fds 1 and 2 carry only what the implementation (and the libraries it
  drives) print, which the parent counts and keeps a bounded tail of;
- reports on the event line: JSON events (loaded, environment, collected tests, test start,
  example, result, done) and one short line per call into the implementation (pe_spec.limits).
"""
from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
from dataclasses import asdict

from pe_spec import limits


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    limits.connect(spec["channel"])
    faulthandler.enable(file=sys.stderr, all_threads=True)
    if hasattr(faulthandler, "register") and hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    _die_with_parent()
    for stream in (sys.stdout, sys.stderr):   # what an implementation printed before crashing is not lost
        stream.reconfigure(line_buffering=True)
    if spec.get("memory_limit") and sys.platform != "win32":
        limits.memory_limit = _limit_memory(int(spec["memory_limit"]))
        limits.hold_reserve(min(256 * 2**20, limits.memory_limit // 8))
    limits.configure(spec.get("call_timeout"))

    from pe_spec.loading import LoadError, load

    try:
        impl = load(spec["target"])
    except LoadError as e:
        limits.send({"ev": "load_error", "message": str(e)})
        return 2
    limits.send({"ev": "loaded", "impl": {"name": impl.name, "family": impl.family,
                                          "declared": dict(impl.declared)}})
    import pytest

    from pe_spec import pytest_plugin

    pytest_plugin.preload(spec["target"], impl)
    # --assert=plain: the property tests use no assert statements, and rewriting them costs seconds
    # per run (pytest would rewrite every module of hypothesis, a pytest11 plugin distribution);
    # no:unraisableexception: its session-end gc.collect passes cost seconds on torch's heap.
    args = ["--pyargs", "pe_properties", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:terminal",
            "--assert=plain", "-p", "no:unraisableexception",
            "-s", "-W", "ignore::DeprecationWarning", "--pe-impl", spec["target"], "--pe-profile", spec["profile"],
            "--pe-call-timeout", str(spec.get("call_timeout") or 0)]
    for cid in spec.get("clauses", ()):
        args += ["--pe-clause", cid]
    if spec.get("seed") is not None:
        args += ["--hypothesis-seed", str(spec["seed"])]
    code = pytest.main(args, plugins=[_Reporter()])
    limits.send({"ev": "done", "pytest_exit": int(code)})
    # Leave now: threads the implementation started, or its atexit handlers, must not keep the
    # check process alive (the parent then removes whatever it left running).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _Reporter:
    """Forwards what the pe-spec plugin records to the parent, as it happens."""

    def __init__(self) -> None:
        self.config = None
        self.sent = 0

    def pytest_configure(self, config) -> None:
        self.config = config

    def pytest_sessionstart(self, session) -> None:
        from pe_spec import report as rep
        from pe_spec.pytest_plugin import active

        state = active(session.config)
        if state is not None:
            env = rep.environment(state["profile"], session.config.getoption("hypothesis_seed", None),
                                  {**state["settings"], **state["limits"]})
            limits.send({"ev": "environment", "environment": env})

    def pytest_collection_finish(self, session) -> None:
        items = []
        for item in session.items:
            marker = item.get_closest_marker("clause")
            if marker is not None:
                params = getattr(getattr(item, "callspec", None), "params", {})
                items.append({"nodeid": item.nodeid, "clause_id": marker.args[0], "dtype": params.get("dtype")})
        limits.send({"ev": "collected", "items": items})

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        limits.send({"ev": "test", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report) -> None:
        from pe_spec.pytest_plugin import active

        state = active(self.config)
        if state is None:
            return
        results = state["results"]
        while self.sent < len(results):
            limits.send({"ev": "result", "result": asdict(results[self.sent])})
            self.sent += 1


def _limit_memory(limit: int) -> int:
    """Cap this process's data segment (heap and private anonymous mappings: what malloc, numpy and
    torch's CPU allocator use); GPU memory and file mappings are not counted."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    return limit


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the parent dies (no orphan left hung in native code)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
