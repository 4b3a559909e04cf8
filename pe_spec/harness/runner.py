"""The check process: what `pe-spec check` runs in a child (``python -m pe_spec.harness.runner SPEC``).

The parent (pe_spec.harness.supervisor) passes SPEC as one JSON argument: the target, profile,
clauses, seed, shrink budget, per-call time limit, memory limit and the file descriptor of the
event line. This process:

- limits its own memory (RLIMIT_DATA), so an implementation that allocates without bound gets
  a MemoryError / allocation error here instead of the machine's OOM killer;
- enables faulthandler (a segfault prints the Python stack to stderr, and SIGUSR1 from the
  parent's watchdog dumps every thread's stack before the kill);
- loads the implementation under the call time limit and runs its checks with the clause engine
  (pe_properties.engine), the same engine the pytest plugin and pe-spec's own tests use: fds 1
  and 2 carry only what the implementation (and the libraries it drives) print, which the parent
  counts and keeps a bounded tail of;
- reports on the event line: JSON events (loaded, environment, collected tests, test start,
  example, result, done) and one short line per call into the implementation (pe_properties.limits).
"""
from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import warnings
from dataclasses import asdict

from pe_properties import limits


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
    limits.set_budget(spec.get("time_budget"))
    warnings.simplefilter("ignore", DeprecationWarning)   # torch's own, on every correct kernel

    from pe_properties.loading import LoadError, load

    try:
        impl = load(spec["target"])
    except LoadError as e:
        limits.send({"ev": "load_error", "message": str(e)})
        return 2
    limits.send({"ev": "loaded", "impl": {"name": impl.name, "family": impl.family,
                                          "declared": dict(impl.declared)}})
    from pe_properties import engine, outcomes

    from pe_spec.harness import profiles, report

    settings = profiles.run_settings(spec["profile"], spec.get("seed"),
                                     shrink_examples=spec.get("shrink_examples", profiles.SHRINK_EXAMPLES),
                                     shrink_seconds=spec.get("shrink_seconds", profiles.SHRINK_SECONDS))
    outcomes.TARGET = spec["target"]
    tests = engine.plan(impl, spec.get("clauses", ()))
    limits.send({"ev": "environment", "environment": report.environment(
        spec["profile"], settings.seed, {**profiles.PROFILES[spec["profile"]], **profiles.shrink_settings(settings)})})
    limits.send({"ev": "collected", "items": [{"nodeid": engine.test_id(c.check_id, dt), "clause_id": c.clause_id,
                                               "dtype": dt} for c, dt in tests]})
    results = engine.run(impl, settings, spec.get("clauses", ()),
                         on_start=lambda tid, check, dtype: limits.send({"ev": "test", "nodeid": tid}),
                         on_result=lambda result: limits.send({"ev": "result", "result": asdict(result)}))
    if any(r.status in ("fail", "error") for r in results):
        from pe_properties.diagnosis import diagnose

        limits.send({"ev": "diagnosis", "findings": diagnose(impl, results)})
    limits.send({"ev": "done"})
    # Leave now: threads the implementation started, or its atexit handlers, must not keep the
    # check process alive (the parent then removes whatever it left running).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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
