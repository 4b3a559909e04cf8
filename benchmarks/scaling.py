"""How the suite's time scales: vs head_dim, vs the largest position (max_position), vs the number
of clauses. Prints a table (and, with --plot, a figure).

    python benchmarks/scaling.py [--kernel rope_interleaved_pairs] [--sweep head_dim,max_position,clauses]
                                 [--plot docs/plots/scaling.png]

Each point is one in-process run of the property suite (``pytest --pyargs pe_properties
--pe-impl ...`` with the check process's options, ci profile, derandomized; the median of
--repeat runs) on a bundled kernel re-declared with a single
head_dim or a single max_position (``rope.implementation(..., head_dims=(d,))``), with the
kernel's own calls timed as in benchmarks/overhead.py: "suite" is the total less the kernel, in
wall seconds and in CPU seconds (process CPU time, all threads; far less sensitive than wall
time to other load on the machine, so the plot shows CPU time).
The head_dim and max_position sweeps run the clauses in --clauses (impl.compile is left out of
every sweep: its time is inductor's, see docs/performance.md); the clause sweep runs the first
k clauses of the registry order. A different number of examples per point (a clause that rejects
a configuration) shows in the examples column.
"""
from __future__ import annotations

import argparse
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from overhead import run_once  # noqa: E402

DEFAULT_CLAUSES = ("rope.reference", "rope.relative-shift", "impl.batch-independence")
ROPE_CLAUSES = ("rope.reference", "rope.relative-shift", "rope.norm", "rope.zero", "rope.composition",
                "rope.pass-through", "rope.linearity", "rope.gradient", "rope.positions", "rope.cache-coverage",
                "impl.no-mutation", "impl.dtype-shape", "impl.batch-independence", "impl.stride-invariance",
                "impl.determinism", "impl.environment")
MODULE = "pe_scaling_targets"


def _target(kernel: str, **declare) -> str:
    """A module attribute holding the bundled kernel re-declared with ``declare``; its target string."""
    from pe_spec import examples, rope

    base = getattr(examples, kernel)
    declared = {**base.declared, **declare}
    module = sys.modules.setdefault(MODULE, types.ModuleType(MODULE))
    name = f"{kernel}__" + "_".join(f"{k}{v}" for k, v in sorted(declare.items())).replace("(", "").replace(
        ")", "").replace(",", "").replace(" ", "")
    if not hasattr(module, name):
        setattr(module, name, rope.implementation(**declared)(base.factory))
    return f"{MODULE}:{name}"


REPEAT = 1


def point(target: str, clauses: list[str]) -> dict:
    """The run with the median CPU time among REPEAT in-process runs."""
    runs = []
    for _ in range(REPEAT):
        r = run_once(target, "ci", clauses, 0, [])
        runs.append({"total": r["total"], "kernel": r["kernel"], "suite": r["total"] - r["kernel"],
                     "cpu": r["cpu"], "suite_cpu": r["cpu"] - r["kernel_cpu"], "kernel_cpu": r["kernel_cpu"],
                     "calls": r["calls"], "exit": r["exit"]})
    runs.sort(key=lambda r: r["cpu"])
    return runs[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default="rope_interleaved_pairs")
    ap.add_argument("--sweep", default="head_dim,max_position,clauses")
    ap.add_argument("--clauses", default=",".join(DEFAULT_CLAUSES))
    ap.add_argument("--head-dims", default="16,64,128,256")
    ap.add_argument("--max-positions", default=f"{2**11},{2**16},{2**20},{2**24},{2**31 - 1}")
    ap.add_argument("--clause-counts", default="1,2,4,8,16")
    ap.add_argument("--repeat", type=int, default=3, help="runs per point (the median is reported)")
    ap.add_argument("--plot", default=None, help="write a PNG with the three sweeps (matplotlib)")
    args = ap.parse_args()
    global REPEAT
    REPEAT = args.repeat
    clauses = [c for c in args.clauses.split(",") if c]
    sweeps = [s for s in args.sweep.split(",") if s]
    import torch

    print(f"suite time scaling on examples:{args.kernel} (ci profile, in-process, median of {args.repeat} runs per point), "
          f"{os.cpu_count()} cores, torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}")
    _target(args.kernel)            # import the examples before the first timed run
    results: dict[str, list] = {}
    header = lambda label: (f"  {label:<14}{'wall s':>8}{'kernel':>8}{'suite':>8}{'CPU s':>8}{'kernel':>8}"
                            f"{'suite':>8}{'calls':>7}{'exit':>5}")
    line = lambda x, r: (f"  {x:<14}{r['total']:8.1f}{r['kernel']:8.2f}{r['suite']:8.1f}{r['cpu']:8.1f}"
                         f"{r['kernel_cpu']:8.2f}{r['suite_cpu']:8.1f}{r['calls']:7}{r['exit']:5}")
    if "head_dim" in sweeps:
        print(f"vs head_dim (clauses: {', '.join(clauses)})\n" + header("head_dim"))
        rows = results["head_dim"] = []
        for d in [int(v) for v in args.head_dims.split(",")]:
            r = point(_target(args.kernel, head_dims=(d,)), clauses)
            rows.append((d, r))
            print(line(d, r), flush=True)
    if "max_position" in sweeps:
        print(f"vs max_position (clauses: {', '.join(clauses)})\n" + header("max_position"))
        rows = results["max_position"] = []
        for m in [int(v) for v in args.max_positions.split(",")]:
            r = point(_target(args.kernel, max_position=m), clauses)
            rows.append((m, r))
            print(line(m, r), flush=True)
    if "clauses" in sweeps:
        print("vs number of clauses (the first k of: " + ", ".join(ROPE_CLAUSES) + ")\n" + header("clauses"))
        rows = results["clauses"] = []
        for k in [int(v) for v in args.clause_counts.split(",")]:
            r = point(_target(args.kernel), list(ROPE_CLAUSES[:k]))
            rows.append((k, r))
            print(line(k, r), flush=True)
    print(f"load average now {os.getloadavg()[0]:.2f}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False)
        labels = {"head_dim": "head_dim", "max_position": "max_position (declared)", "clauses": "clauses"}
        for ax, (name, rows) in zip(axes[0], results.items()):
            xs = [x for x, _ in rows]
            ax.plot(xs, [r["suite_cpu"] for _, r in rows], "o-", label="suite")
            ax.plot(xs, [r["kernel_cpu"] for _, r in rows], "s--", label="kernel")
            ax.set_xlabel(labels[name])
            ax.set_ylabel("CPU seconds")
            if name != "clauses":
                ax.set_xscale("log", base=2)
            ax.set_ylim(bottom=0)
            ax.legend()
        fig.suptitle(f"pe-spec suite time, examples:{args.kernel}, ci profile (2-core CPU, loaded)")
        fig.tight_layout()
        os.makedirs(os.path.dirname(os.path.abspath(args.plot)), exist_ok=True)
        fig.savefig(args.plot, dpi=110)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
