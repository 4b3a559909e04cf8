"""Overhead ratio of a full RoPE check: total wall time / time spent inside the kernel's own calls.

    python benchmarks/overhead.py [--target examples:rope_half_cached] [--profile ci] [--runs 1]
                                  [--clause ID ...] [--cprofile N]

One run, in-process: the Implementation is wrapped so that every factory call and every call
of a function it returned is timed (perf_counter, nested calls counted once), then the property
suite runs through pytest with the pe-spec plugin (``--pyargs pe_properties --pe-impl TARGET``),
with the pytest options of the check process of ``pe-spec check`` (pe_spec/runner.py); the
process isolation around it (supervisor, event line) is not part of this figure.

Kernel time = factory calls + function calls (+ calls of the torch.compile'd function in
impl.compile, whose compilation happens inside that call); the backward pass of rope.gradient
is run by the suite (torch.autograd.grad) and counts as suite time. Everything else (hypothesis
drawing, the float64 reference, the tolerance model, input generation, comparisons, pytest)
is the suite's own cost. What-ifs: --pytest-arg (another command line), --max-elements (another
per-tensor budget in properties/strategies.py).

Target (issue 5): total / kernel at most 2. Prints the ratio overall, per clause, and without
impl.compile; with --cprofile N, the N most expensive functions of the suite by own time.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from collections import defaultdict

import pytest


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
            if torch.compiler.is_compiling():   # traced by dynamo: no timing inside the graph
                return f(*args, **kwargs)
            if timer._depth:
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

    def wrap_implementation(self, impl) -> None:
        original = impl.factory

        def factory(cfg):
            fn = self.timed(original, "factory")(cfg)
            return self.timed(fn, "fn") if callable(fn) else fn

        impl.factory = factory


class PerTest:
    """pytest plugin: wall time and kernel time per clause."""

    def __init__(self, timer: KernelTimer, max_elements: int | None = None) -> None:
        self.timer = timer
        self.max_elements = max_elements
        self.wall: dict[str, float] = defaultdict(float)
        self.kernel: dict[str, float] = defaultdict(float)
        self.collect_start = None

    def pytest_collection_finish(self, session) -> None:
        if self.max_elements:     # what-if: a different per-tensor budget (properties/strategies.py)
            for name, module in list(sys.modules.items()):
                if name.endswith("strategies") and hasattr(module, "MAX_ELEMENTS"):
                    module.MAX_ELEMENTS = self.max_elements

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        marker = item.get_closest_marker("clause")
        cid = marker.args[0] if marker else "(other)"
        k0, t0 = self.timer.total, time.perf_counter()
        try:
            return (yield)
        finally:
            self.wall[cid] += time.perf_counter() - t0
            self.kernel[cid] += self.timer.total - k0


def patch_compile(timer: KernelTimer):
    """torch.compile(fn) returns a function whose calls (compilation included) are kernel time."""
    import torch

    original = torch.compile

    def compile_(fn=None, *args, **kwargs):
        compiled = original(fn, *args, **kwargs)
        return timer.timed(compiled, "fn") if callable(compiled) else compiled

    torch.compile = compile_
    return lambda: setattr(torch, "compile", original)


def run_once(target: str, profile: str, clauses: list[str], cprofile: int, extra: list[str],
             max_elements: int | None = None, baseline: bool = False) -> dict:
    from pe_spec.harness.loading import load

    impl = load(target)           # the same object the plugin will load (module attribute)
    saved_factory = impl.factory
    timer = KernelTimer()
    timer.wrap_implementation(impl)
    impl._cache.clear()
    unpatch = patch_compile(timer)
    per = PerTest(timer, max_elements)
    # The pytest command line of the check process (pe_spec/runner.py), terminal output aside.
    args = ["--pyargs", "pe_properties", "-p", "no:cacheprovider", "-p", "no:randomly",
            "--assert=plain", "-p", "no:unraisableexception",
            "-W", "ignore::DeprecationWarning", "--pe-impl", target, "--pe-profile", profile,
            "-q", "--no-header", "--tb=short", "-rN"]
    for c in clauses:
        args += ["--pe-clause", c]
    args += extra
    plugins = [per]
    if baseline:
        i = args.index("no:unraisableexception")
        args = [a for a in args[:i - 1] + args[i + 1:] if a != "--assert=plain"]
        plugins.append(Baseline())
    prof = None
    if cprofile:
        import cProfile

        prof = cProfile.Profile()
    t0, cpu0 = time.perf_counter(), _cpu()
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            if prof:
                prof.enable()
            code = pytest.main(args, plugins=plugins)
            if prof:
                prof.disable()
    finally:
        total, cpu = time.perf_counter() - t0, _cpu() - cpu0
        unpatch()
        if baseline:
            plugins[-1].undo()
        impl.factory = saved_factory
        impl._cache.clear()
    if int(code) not in (0, 1):
        sys.stdout.write(out.getvalue()[-3000:])
        sys.exit(f"pytest exit {int(code)}")
    return {"total": total, "cpu": cpu, "kernel": timer.total, "kernel_cpu": timer.cpu, "calls": timer.calls, "factory_calls": timer.factory_calls,
            "wall": dict(per.wall), "kernel_by_clause": dict(per.kernel), "exit": int(code), "profile": prof,
            "output": out.getvalue()}


def _baseline_reference(apply_orig=None):
    """The reference helpers as they were before issue 5 (fancy-indexed copies, whole-array
    temporaries, np.hypot), for a same-conditions before/after comparison (--baseline)."""
    import numpy as np

    from pe_spec.families.rope.conventions import pair_channels
    from pe_spec.families.rope import reference

    def apply(x, positions, *, rotary_dim, base, layout, scale=1.0):
        x = np.asarray(x, dtype=np.float64)
        theta = reference.angles(positions, rotary_dim, base)
        c, s = scale * np.cos(theta), scale * np.sin(theta)
        first, second = pair_channels(layout, rotary_dim)
        a, b = x[..., first], x[..., second]
        out = x.copy()
        out[..., first] = a * c - b * s
        out[..., second] = a * s + b * c
        return out

    def pair_norms(x, *, rotary_dim, layout):
        first, second = pair_channels(layout, rotary_dim)
        x = np.asarray(x, dtype=np.float64)
        return np.hypot(x[..., first], x[..., second])

    return apply, pair_norms


class Baseline:
    """--baseline: undo this issue's suite-side changes for one run (old reference helpers,
    strategies rebuilt per example, assertion rewriting and the unraisable-exception plugin on)."""

    def __init__(self) -> None:
        self.saved: list = []

    def patch(self, module, name, value) -> None:
        self.saved.append((module, name, getattr(module, name)))
        setattr(module, name, value)

    def pytest_collection_finish(self, session) -> None:
        from pe_spec.families.rope import reference

        apply, pair_norms = _baseline_reference()
        self.patch(reference, "apply", apply)
        self.patch(reference, "pair_norms", pair_norms)
        reused = [m._reused(lambda: None).__code__ for name, m in list(sys.modules.items())
                  if name.endswith("strategies") and hasattr(m, "_reused")]
        for mod_name, module in list(sys.modules.items()):
            if not mod_name.endswith(("strategies", "test_rope", "test_impl", "test_sinusoidal")):
                continue
            for attr, f in list(vars(module).items()):
                if getattr(f, "__code__", None) in reused:     # a strategy builder wrapped by _reused
                    self.patch(module, attr, f.__wrapped__)
        print(f"baseline: {len(self.saved)} functions replaced by their pre-issue-5 versions", file=sys.stderr)

    def undo(self) -> None:
        for module, name, value in reversed(self.saved):
            setattr(module, name, value)


def _cpu() -> float:
    """CPU seconds of this process, all threads (less sensitive than wall time to other load)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def print_profile(prof, n: int) -> None:
    import pstats

    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(n)
    print(s.getvalue())
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(n)
    print(s.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="examples:rope_half_cached")
    ap.add_argument("--profile", default="ci", choices=("ci", "dev", "thorough"))
    ap.add_argument("--runs", type=int, default=1, help="repeat in-process (the first pays imports and compilation)")
    ap.add_argument("--clause", action="append", default=[], help="restrict to these clauses")
    ap.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N top functions (cProfile)")
    ap.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                    help="extra pytest argument (to try a change of the command line pe-spec check uses)")
    ap.add_argument("--max-elements", type=int, default=None,
                    help="what-if: override strategies.MAX_ELEMENTS (the per-tensor budget) for this run")
    ap.add_argument("--baseline", action="store_true",
                    help="before/after: run with this issue's suite-side changes undone (see Baseline)")
    ap.add_argument("--cprofile-dump", default=None, metavar="FILE", help="with --cprofile: also dump the stats")
    args = ap.parse_args()
    import torch

    print(f"overhead of pe-spec check {args.target} (profile {args.profile}), in-process, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f}")
    ratios = []
    for run in range(args.runs):
        r = run_once(args.target, args.profile, args.clause, args.cprofile if run == args.runs - 1 else 0,
                     args.pytest_arg, args.max_elements, args.baseline)
        ratio = r["total"] / r["kernel"] if r["kernel"] else float("inf")
        ratios.append(ratio)
        nc_wall = r["total"] - r["wall"].get("impl.compile", 0.0)
        nc_kernel = r["kernel"] - r["kernel_by_clause"].get("impl.compile", 0.0)
        print(f"run {run + 1}: total {r['total']:.1f} s ({r['cpu']:.1f} s CPU), kernel {r['kernel']:.2f} s "
              f"({r['factory_calls']} factory calls, {r['calls']} function calls), ratio {ratio:.2f}; "
              f"without impl.compile: {nc_wall:.1f} s / {nc_kernel:.2f} s = {nc_wall / max(nc_kernel, 1e-9):.2f}; "
              f"pytest exit {r['exit']}")
        print(f"  CPU time (less sensitive to other load): total {r['cpu']:.1f} s, kernel {r['kernel_cpu']:.2f} s, "
              f"ratio {r['cpu'] / max(r['kernel_cpu'], 1e-9):.2f}")
        print(f"  {'clause':<26}{'wall s':>8}{'kernel s':>10}{'ratio':>8}")
        for cid in sorted(r["wall"], key=lambda c: -r["wall"][c]):
            w, k = r["wall"][cid], r["kernel_by_clause"].get(cid, 0.0)
            print(f"  {cid:<26}{w:8.2f}{k:10.3f}{(w / k if k else float('inf')):8.2f}")
        outside = r["total"] - sum(r["wall"].values())
        print(f"  {'(collection, session)':<26}{outside:8.2f}")
        if r["exit"] != 0:
            print(r["output"][-3000:])
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
