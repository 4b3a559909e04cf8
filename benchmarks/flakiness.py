"""Flake-freedom of the suite: repeated `pe-spec check` runs against the bundled correct kernels.

    python benchmarks/flakiness.py [--profile ci --profile dev] [--runs 20] [--kernels a,b,...]
                                   [--clause ID ...] [--log results.jsonl] [--summary-only]

Every bundled kernel (``pe_spec.examples.bundled()``, every family's: four RoPE and four
sinusoidal today) is correct, so every failure or error is a false failure of the suite.
Targets (issue 5): the ``ci`` profile (derandomized) fails 0 times in 20 runs per kernel, and
the ``dev`` profile (fresh random seeds, 50 examples per test) has 0 false failures in 20 runs
per kernel.

Each run is a fresh interpreter (``python -m pe_spec check examples:NAME -q --report``); dev
runs get a seed from the OS (``--seed S``, printed and logged, so a failure replays with
``pe-spec check examples:NAME --profile dev --seed S``). A full 2 x 20 x 8 run takes hours on
two cores: run it in parts (``--runs``, ``--kernels``, ``--profile``) with one ``--log`` file;
every finished run is appended to it and the summary covers all runs in the log. ``--clause``
(repeatable) checks only those clauses, to chase one suspected of flaking.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict


def bundled_names() -> list[str]:
    """The bundled kernels' names, family by family."""
    from pe_spec import examples

    return list(examples.bundled())


def run_check(kernel: str, profile: str, seed: int | None, clauses: list[str], timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report_path = os.path.join(tmp, "r.json")
        cmd = [sys.executable, "-m", "pe_spec", "check", f"examples:{kernel}", "-q", "--profile", profile,
               "--report", report_path]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        for c in clauses:
            cmd += ["--clause", c]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
            code, out = proc.returncode, proc.stdout[-4000:] + proc.stderr[-4000:]
        except subprocess.TimeoutExpired as e:
            code, out = "timeout", f"timed out after {timeout} s: {e}"
        wall = time.perf_counter() - start
        result = {"kernel": kernel, "profile": profile, "seed": seed, "clauses": clauses, "exit": code,
                  "wall_s": round(wall, 1),
                  "time": time.strftime("%Y-%m-%d %H:%M:%S"), "load": round(os.getloadavg()[0], 2)}
        if not os.path.exists(report_path):
            result.update(verdict="no report", failing={}, messages=[out])
            return result
        with open(report_path) as f:
            report = json.load(f)
    failing = {c["id"]: c["status"] for c in report["clauses"] if c["status"] in ("fail", "error")}
    messages = [t["message"] for c in report["clauses"] for t in c["tests"] if t["status"] in ("fail", "error")]
    passed = sum(c["status"] == "pass" for c in report["clauses"])
    result.update(verdict=report["verdict"], failing=failing, messages=messages, passed=passed,
                  skipped=[c["id"] for c in report["clauses"] if c["status"] == "skip"])
    return result


def is_false_failure(r: dict) -> bool:
    return r["verdict"] != "conformant" or bool(r["failing"]) or r["exit"] != 0


def replay_command(r: dict) -> str:
    seed = f" --seed {r['seed']}" if r["seed"] is not None else ""
    clauses = "".join(f" --clause {c}" for c in r.get("clauses", []))
    return f"pe-spec check examples:{r['kernel']} --profile {r['profile']}{seed}{clauses}"


def summarize(results: list[dict], kernels: list[str]) -> None:
    """Runs and false failures per (profile, kernel), kernels in bundled order; then each false
    failure with its replay command and first messages."""
    by = defaultdict(list)
    for r in results:
        by[(r["profile"], r["kernel"])].append(r)
    order = lambda key: (key[0], kernels.index(key[1]) if key[1] in kernels else len(kernels))
    print(f"\n{'profile':<8}{'kernel':<28}{'runs':>6}{'false failures':>16}{'median wall s':>15}")
    totals = defaultdict(lambda: [0, 0])
    for (profile, kernel) in sorted(by, key=order):
        rs = by[(profile, kernel)]
        bad = sum(map(is_false_failure, rs))
        walls = sorted(r["wall_s"] for r in rs)
        totals[profile][0] += len(rs)
        totals[profile][1] += bad
        print(f"{profile:<8}{kernel:<28}{len(rs):>6}{bad:>16}{walls[len(walls) // 2]:>15.1f}")
    for profile, (n, bad) in sorted(totals.items()):
        print(f"{profile:<8}{'all kernels':<28}{n:>6}{bad:>16}")
    for r in results:
        if is_false_failure(r):
            print(f"\nFALSE FAILURE: {replay_command(r)}: {r['verdict']}, exit {r['exit']}, failing {r['failing']}")
            for m in r["messages"][:3]:
                print("  " + m.replace("\n", "\n  "))


def run_all(profiles: list[str], kernels: list[str], runs: int, clauses: list[str], timeout: float,
            log: str | None) -> list[dict]:
    """Every check, kernels interleaved within each run index (so a partial run covers every
    kernel), each appended to the log as it finishes."""
    rng = random.SystemRandom()
    results = []
    total = len(profiles) * len(kernels) * runs
    print(f"flakiness: profiles {profiles}, kernels {kernels}, {runs} runs each ({total} checks)"
          + (f", clauses {clauses}" if clauses else "") + f", {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
          flush=True)
    for run in range(runs):
        for profile in profiles:
            for kernel in kernels:
                seed = rng.randrange(2**32) if profile == "dev" else None
                r = run_check(kernel, profile, seed, clauses, timeout)
                results.append(r)
                if log:
                    with open(log, "a") as f:
                        f.write(json.dumps(r) + "\n")
                flag = "FALSE FAILURE " + json.dumps(r["failing"]) if is_false_failure(r) else "ok"
                seed_txt = f" seed {seed}" if seed is not None else ""
                print(f"[{len(results)}/{total}] {profile} run {run + 1} {kernel}{seed_txt}: {r['verdict']} "
                      f"({r.get('passed', 0)} clauses passed) {r['wall_s']:.0f} s, load {r['load']:.1f}: {flag}",
                      flush=True)
    return results


def main() -> None:
    bundled = bundled_names()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", action="append", choices=("ci", "dev"), help="default: ci and dev")
    ap.add_argument("--runs", type=int, default=20, help="runs per (profile, kernel)")
    ap.add_argument("--kernels", default=",".join(bundled), help="comma-separated bundled kernel names")
    ap.add_argument("--clause", action="append", default=[], metavar="ID", help="check only this clause (repeatable)")
    ap.add_argument("--log", default=None, help="append every run to this JSON-lines file; summarize all of it")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per check")
    ap.add_argument("--summary-only", action="store_true", help="only print the summary of --log")
    args = ap.parse_args()
    kernels = [k.strip() for k in args.kernels.split(",") if k.strip()]
    unknown = [k for k in kernels if k not in bundled]
    if unknown:
        sys.exit(f"unknown kernels {unknown}; bundled: {', '.join(bundled)}")

    previous = []
    if args.log and os.path.exists(args.log):
        with open(args.log) as f:
            previous = [json.loads(line) for line in f if line.strip()]
    if not args.summary_only:
        previous += run_all(args.profile or ["ci", "dev"], kernels, args.runs, args.clause, args.timeout, args.log)
    summarize(previous, bundled)


if __name__ == "__main__":
    main()
