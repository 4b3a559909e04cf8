"""Overhead ratio of a full check: total wall time / time spent inside the kernel's own calls.

    python benchmarks/overhead.py [--target examples:rope_half_cached] [--profile ci] [--runs 1]
                                  [--clause ID ...] [--max-elements N] [--cprofile N] [--cprofile-dump FILE]

One run, in-process: the Implementation is wrapped so that every factory call and every call
of a function it returned is timed (perf_counter, nested calls counted once), then the clause
engine runs every test of the check (``pe_properties.engine.run`` with the profile's
``pe_spec.harness.profiles.run_settings``), as the check process of ``pe-spec check``
(pe_spec/harness/runner.py) does; the process isolation around it (supervisor, event line) is
not part of this figure.

Kernel time = factory calls + function calls (+ calls of the torch.compile'd function in
impl.compile, whose compilation happens inside that call); the backward pass of rope.gradient
is run by the suite (torch.autograd.grad) and counts as suite time. Everything else (hypothesis
drawing, the float64 reference, the tolerance model, input generation, comparisons, the engine)
is the suite's own cost. What-if: --max-elements (another per-tensor budget,
pe_properties.strategies.MAX_ELEMENTS).

Target (issue 5): total / kernel at most 2. Prints the ratio overall, per clause, and without
impl.compile, and the tests' statuses; with --cprofile N, the N most expensive functions of the
suite by own time and by cumulative time.

Since the move to the clause engine there is no pytest command line in a check, so the former
--pytest-arg is gone, and so is --baseline, which rebuilt the suite of before issue 5 by patching
that command line and the strategy internals of then back in: the engine route has neither.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import sys
import time
from collections import Counter, defaultdict


class KernelTimer:
    """Wraps an Implementation's factory (and what it returns) with wall-time accounting."""

    def __init__(self) -> None:
        self.total = 0.0
        self.cpu = 0.0          # process CPU seconds (all threads) inside the calls
        self.calls = 0
        self.factory_calls = 0
        self._depth = 0

    def timed(self, f, kind: str):
        import torch

        timer = self

        def wrapper(*args, **kwargs):
            if torch.compiler.is_compiling() or timer._depth:   # traced by dynamo, or nested: not again
                return f(*args, **kwargs)
            timer._depth += 1
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return f(*args, **kwargs)
            finally:
                timer.total += time.perf_counter() - t0
                timer.cpu += time.process_time() - c0
                timer._depth -= 1
                if kind == "factory":
                    timer.factory_calls += 1
                else:
                    timer.calls += 1

        wrapper.__wrapped__ = f
        return wrapper

    @contextlib.contextmanager
    def wrapping(self, impl):
        """impl's factory timed, and every function it returns; its build cache empty before and after."""
        original = impl.factory

        def factory(cfg):
            fn = self.timed(original, "factory")(cfg)
            return self.timed(fn, "fn") if callable(fn) else fn

        impl.factory = factory
        impl._cache.clear()
        try:
            yield
        finally:
            impl.factory = original
            impl._cache.clear()

    @contextlib.contextmanager
    def compiling(self):
        """torch.compile(fn) returns a function whose calls (compilation included) are kernel time."""
        import torch

        original = torch.compile

        def compile_(fn=None, *args, **kwargs):
            compiled = original(fn, *args, **kwargs)
            return self.timed(compiled, "fn") if callable(compiled) else compiled

        torch.compile = compile_
        try:
            yield
        finally:
            torch.compile = original


class PerClause:
    """engine.run's on_start / on_result: wall time and kernel time per clause."""

    def __init__(self, timer: KernelTimer) -> None:
        self.timer = timer
        self.wall: dict[str, float] = defaultdict(float)
        self.kernel: dict[str, float] = defaultdict(float)
        self._t0 = self._k0 = 0.0

    def start(self, test_id: str, check, dtype: str) -> None:
        self._t0, self._k0 = time.perf_counter(), self.timer.total

    def result(self, result) -> None:
        self.wall[result.clause_id] += time.perf_counter() - self._t0
        self.kernel[result.clause_id] += self.timer.total - self._k0


@contextlib.contextmanager
def element_budget(max_elements: int | None):
    """What-if: another per-tensor budget (pe_properties.strategies.MAX_ELEMENTS) for the run."""
    from pe_properties import strategies

    saved = strategies.MAX_ELEMENTS
    strategies.MAX_ELEMENTS = max_elements or saved
    try:
        yield
    finally:
        strategies.MAX_ELEMENTS = saved


def run_once(impl, profile: str, clauses: list[str], cprofile: bool = False,
             max_elements: int | None = None) -> dict:
    """One in-process run of impl's tests (only those of ``clauses`` if any), kernel calls timed."""
    import cProfile

    from pe_properties import engine

    from pe_spec.harness.profiles import run_settings

    settings = run_settings(profile)
    timer = KernelTimer()
    per = PerClause(timer)
    prof = cProfile.Profile() if cprofile else None
    with timer.wrapping(impl), timer.compiling(), element_budget(max_elements):
        t0, cpu0 = time.perf_counter(), _cpu()
        if prof:
            prof.enable()
        results = engine.run(impl, settings, clauses, on_start=per.start, on_result=per.result)
        if prof:
            prof.disable()
        total, cpu = time.perf_counter() - t0, _cpu() - cpu0
    return {"total": total, "cpu": cpu, "kernel": timer.total, "kernel_cpu": timer.cpu, "calls": timer.calls,
            "factory_calls": timer.factory_calls, "wall": dict(per.wall), "kernel_by_clause": dict(per.kernel),
            "results": results, "profile": prof}


def _cpu() -> float:
    """CPU seconds of this process, all threads (less sensitive than wall time to other load)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _ratio(total: float, kernel: float) -> float:
    return total / kernel if kernel > 0 else float("inf")


def statuses(results) -> str:
    """'40 pass, 2 skip': the tests' statuses."""
    counts = Counter(r.status for r in results)
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def what_went_wrong(message: str) -> str:
    """The line of a test's message that says what went wrong (a clause failure restates its
    clause on the first line)."""
    lines = message.splitlines() or [""]
    return lines[1].strip() if lines[0].startswith("[") and len(lines) > 1 else lines[0]


def print_run(n: int, r: dict) -> float:
    """The run's figures; returns its ratio."""
    ratio = _ratio(r["total"], r["kernel"])
    nc_wall = r["total"] - r["wall"].get("impl.compile", 0.0)
    nc_kernel = r["kernel"] - r["kernel_by_clause"].get("impl.compile", 0.0)
    print(f"run {n}: total {r['total']:.1f} s ({r['cpu']:.1f} s CPU), kernel {r['kernel']:.2f} s "
          f"({r['factory_calls']} factory calls, {r['calls']} function calls), ratio {ratio:.2f}; "
          f"without impl.compile: {nc_wall:.1f} s / {nc_kernel:.2f} s = {_ratio(nc_wall, nc_kernel):.2f}; "
          f"tests: {statuses(r['results'])}")
    print(f"  CPU time (less sensitive to other load): total {r['cpu']:.1f} s, kernel {r['kernel_cpu']:.2f} s, "
          f"ratio {_ratio(r['cpu'], r['kernel_cpu']):.2f}")
    print(f"  {'clause':<26}{'wall s':>8}{'kernel s':>10}{'ratio':>8}")
    for cid in sorted(r["wall"], key=lambda c: -r["wall"][c]):
        w, k = r["wall"][cid], r["kernel_by_clause"].get(cid, 0.0)
        print(f"  {cid:<26}{w:8.2f}{k:10.3f}{_ratio(w, k):8.2f}")
    print(f"  {'(outside the tests)':<26}{r['total'] - sum(r['wall'].values()):8.2f}")
    for t in r["results"]:
        if t.status in ("fail", "error"):
            print(f"  {t.nodeid}: {t.status}: {what_went_wrong(t.message)}")
    return ratio


def print_profile(prof, n: int) -> None:
    import pstats

    for order in ("tottime", "cumulative"):
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats(order).print_stats(n)
        print(s.getvalue())


def main() -> None:
    from pe_properties import outcomes
    from pe_properties.loading import LoadError, load

    from pe_spec.harness.profiles import PROFILES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="examples:rope_half_cached")
    ap.add_argument("--profile", default="ci", choices=tuple(PROFILES))
    ap.add_argument("--runs", type=int, default=1, help="repeat in-process (the first pays imports and compilation)")
    ap.add_argument("--clause", action="append", default=[], help="restrict to these clauses")
    ap.add_argument("--max-elements", type=int, default=None,
                    help="what-if: override strategies.MAX_ELEMENTS (the per-tensor budget) for this run")
    ap.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N top functions (cProfile)")
    ap.add_argument("--cprofile-dump", default=None, metavar="FILE", help="with --cprofile: also dump the stats")
    args = ap.parse_args()
    import torch

    try:
        impl = load(args.target)
    except LoadError as e:
        sys.exit(str(e))
    outcomes.TARGET = args.target      # for the reproduce lines of failure messages
    print(f"overhead of pe-spec check {args.target} (profile {args.profile}), in-process, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f}")
    ratios = []
    for run in range(args.runs):
        r = run_once(impl, args.profile, args.clause, bool(args.cprofile) and run == args.runs - 1,
                     args.max_elements)
        ratios.append(print_run(run + 1, r))
    ratios.sort()
    if args.runs > 1:
        print(f"median ratio over {args.runs} runs: {ratios[len(ratios) // 2]:.2f} (min {ratios[0]:.2f}, max {ratios[-1]:.2f})")
    print(f"load average now {os.getloadavg()[0]:.2f}")
    if args.cprofile:
        print_profile(r["profile"], args.cprofile)
        if args.cprofile_dump:
            r["profile"].dump_stats(args.cprofile_dump)


if __name__ == "__main__":
    main()
