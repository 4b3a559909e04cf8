"""How long a verdict takes: conformant against nonconformant, side by side, from one run.

    python benchmarks/check_time.py [--runs 3] [--correct examples:rope_half_cached]
                                    [--bug tests/known_bugs/rope/inv_freq_bf16.py:kernel ...]

Each target is a full `pe-spec check` (ci profile, every clause) in a fresh process, the targets
interleaved round by round so that load on the machine falls on all of them alike; one warm-up
check first fills the torch.compile cache. It prints each target's median wall and CPU time and
the ratio of each nonconformant verdict's time to the conformant one's (target: at most 1.5).
The default known bugs are written like the bundled kernel (a cos/sin computation and
rotate_half, half layout), each with one bug, so the ratio measures the cost of failing, not of
the kernel.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORRECT = "examples:rope_half_cached"
BUGS = tuple(f"{REPO}/tests/known_bugs/rope/{name}.py:kernel"
             for name in ("inv_freq_bf16", "positions_fp16", "cos_sin_swapped"))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_check(target: str) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds of the check's processes, report)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        start, cpu0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run([sys.executable, "-m", "pe_spec", "check", target, "-q", "--report", report],
                              capture_output=True, text=True, cwd=REPO)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
        if proc.returncode not in (0, 1):
            sys.exit(f"{target}: the check did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        with open(report) as f:
            return wall, cpu, json.load(f)


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="rounds (each runs every target once)")
    ap.add_argument("--correct", default=CORRECT, help="the conformant kernel")
    ap.add_argument("--bug", action="append", help="a nonconformant kernel (repeatable; default: three known bugs)")
    args = ap.parse_args()
    targets = [args.correct, *(args.bug or BUGS)]
    print(f"pe-spec check, ci profile, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    run_check(args.correct)                                # warm-up: the inductor cache, imports
    times: dict[str, list[tuple[float, float]]] = {t: [] for t in targets}
    verdicts: dict[str, str] = {}
    for _ in range(args.runs):
        for t in targets:
            wall, cpu, report = run_check(t)
            times[t].append((wall, cpu))
            verdicts[t] = report["verdict"]
    if verdicts[args.correct] != "conformant" or any(verdicts[t] != "nonconformant" for t in targets[1:]):
        sys.exit(f"unexpected verdicts: {verdicts}")
    base_wall = _median([w for w, _ in times[args.correct]])
    base_cpu = _median([c for _, c in times[args.correct]])
    print(f"{'target':<62} {'verdict':<14} {'wall s':>7} {'CPU s':>7} {'ratio (wall)':>12} {'ratio (CPU)':>11}")
    for t in targets:
        wall, cpu = _median([w for w, _ in times[t]]), _median([c for _, c in times[t]])
        name = t.replace(f"{REPO}/", "")
        print(f"{name:<62} {verdicts[t]:<14} {wall:7.1f} {cpu:7.1f} {wall / base_wall:12.2f} {cpu / base_cpu:11.2f}")
    print(f"medians of {args.runs} rounds; load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
