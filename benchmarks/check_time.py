"""Wall time of `pe-spec check` on one RoPE kernel (ci profile, every clause), printed as figures.

    python benchmarks/check_time.py [--target examples:rope_half_cached] [--runs 3]

Reports the first run with a fresh (cold) torch.compile cache, then warm runs, and the time
per clause taken from the JSON report. Target (issue 2): at most 20 s on a 2-core machine.
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
from collections import defaultdict


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_check(target: str, extra_env: dict, clauses: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds of the check process, report). CPU time is what a quiet machine's
    wall time approaches; it is far less sensitive to other load than wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "r.json")
        cmd = [sys.executable, "-m", "pe_spec.cli", "check", target, "-q", "--report", report]
        for c in clauses:
            cmd += ["--clause", c]
        start, cpu0 = time.perf_counter(), _children_cpu()
        proc = subprocess.run(cmd, env={**os.environ, **extra_env}, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
        if proc.returncode not in (0, 1):
            sys.exit(f"check failed to run (exit {proc.returncode}):\n{proc.stderr}")
        with open(report) as f:
            return wall, cpu, json.load(f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="examples:rope_half_cached")
    ap.add_argument("--runs", type=int, default=3, help="warm runs after the cold one")
    ap.add_argument("--clause", action="append", default=[], help="restrict to these clauses")
    args = ap.parse_args()

    print(f"pe-spec check {args.target} (profile ci), {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as cache:
        cold, cold_cpu, _ = run_check(args.target, {"TORCHINDUCTOR_CACHE_DIR": cache}, args.clause)
        print(f"  cold torch.compile cache : {cold:6.1f} s wall, {cold_cpu:6.1f} s CPU")
        walls, cpus, per_clause = [], [], defaultdict(list)
        for _ in range(args.runs):
            wall, cpu, report = run_check(args.target, {"TORCHINDUCTOR_CACHE_DIR": cache}, args.clause)
            walls.append(wall)
            cpus.append(cpu)
            for c in report["clauses"]:
                per_clause[c["id"]].append(sum(t["duration_s"] for t in c["tests"]))
    walls.sort()
    cpus.sort()
    print(f"  warm, median of {args.runs}     : {walls[len(walls) // 2]:6.1f} s wall (min {walls[0]:.1f}, max {walls[-1]:.1f}), "
          f"{cpus[len(cpus) // 2]:.1f} s CPU")
    print(f"  load average now         : {os.getloadavg()[0]:.2f} (wall time is only meaningful near 0)")
    print(f"  verdict                  : {report['verdict']}")
    print("  time per clause (warm, median over runs, all dtypes):")
    for cid, times in sorted(per_clause.items(), key=lambda kv: -sorted(kv[1])[len(kv[1]) // 2]):
        times.sort()
        print(f"    {cid:<26} {times[len(times) // 2]:6.2f} s")


if __name__ == "__main__":
    main()
