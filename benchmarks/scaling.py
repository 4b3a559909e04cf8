"""How the suite's time scales: vs head_dim, vs the largest position (max_position), vs the number
of clauses. Prints a table (and, with --plot, a figure).

    python benchmarks/scaling.py [--kernel rope_interleaved_pairs] [--sweep head_dim,max_position,clauses]
                                 [--clauses ID,...] [--head-dims 16,64,128,256] [--max-positions N,...]
                                 [--clause-counts 1,2,4,8,16] [--repeat 3] [--plot docs/plots/scaling.png]

Each point is one in-process run of the clause engine (``run_once`` of benchmarks/overhead.py: ci
profile, derandomized; the run of median CPU time among --repeat runs) on a bundled kernel
re-declared with a single head_dim or a single max_position (``rope.implementation(...,
head_dims=(d,))``), with the kernel's own calls timed as in benchmarks/overhead.py: "suite" is
the total less the kernel, in wall seconds and in CPU seconds (process CPU time, all threads; far
less sensitive than wall time to other load on the machine, so the plot shows CPU time).
The head_dim and max_position sweeps run the clauses in --clauses (impl.compile is left out of
every sweep: its time is inductor's, see docs/performance.md); the clause sweep runs the first
k clauses of the registry order for the kernel's family. A different number of examples per
point (a clause that rejects a configuration) shows in the examples column; "fails" counts the
tests that failed or errored (0 for a bundled kernel).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from overhead import run_once  # noqa: E402

DEFAULT_CLAUSES = ("rope.reference", "rope.relative-shift", "impl.batch-independence")
LABELS = {"head_dim": "head_dim", "max_position": "max_position (declared)", "clauses": "clauses"}


def redeclared(kernel: str, **declare):
    """The bundled kernel with ``declare`` added to its declarations (a new Implementation)."""
    from pe_spec import examples
    from pe_spec.spec import registry

    base = getattr(examples, kernel)
    return registry.family_of(base).implementation(**{**base.declared, **declare})(base.factory)


def sweep_clauses(kernel: str) -> list[str]:
    """The kernel's family's clauses in registry order, impl.compile left out."""
    from pe_spec import examples
    from pe_spec.spec import clauses

    return [c.id for c in clauses.applicable(getattr(examples, kernel).family) if c.id != "impl.compile"]


def point(impl, clause_ids: list[str], repeat: int) -> dict:
    """The run with the median CPU time among ``repeat`` in-process runs."""
    runs = []
    for _ in range(repeat):
        r = run_once(impl, "ci", clause_ids)
        tests = r["results"]
        runs.append({"total": r["total"], "kernel": r["kernel"], "suite": r["total"] - r["kernel"],
                     "cpu": r["cpu"], "suite_cpu": r["cpu"] - r["kernel_cpu"], "kernel_cpu": r["kernel_cpu"],
                     "calls": r["calls"], "examples": sum(t.examples for t in tests),
                     "fails": sum(t.status in ("fail", "error") for t in tests)})
    runs.sort(key=lambda r: r["cpu"])
    return runs[len(runs) // 2]


def header(label: str) -> str:
    return (f"  {label:<14}{'wall s':>8}{'kernel':>8}{'suite':>8}{'CPU s':>8}{'kernel':>8}{'suite':>8}"
            f"{'calls':>7}{'examples':>9}{'fails':>6}")


def line(x, r: dict) -> str:
    return (f"  {x:<14}{r['total']:8.1f}{r['kernel']:8.2f}{r['suite']:8.1f}{r['cpu']:8.1f}{r['kernel_cpu']:8.2f}"
            f"{r['suite_cpu']:8.1f}{r['calls']:7}{r['examples']:9}{r['fails']:6}")


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def sweeps(args) -> dict[str, tuple[str, list]]:
    """name -> (title, [(x, implementation, clauses)]) for each requested sweep."""
    clause_ids = [c for c in args.clauses.split(",") if c]
    ordered = sweep_clauses(args.kernel)
    every = {
        "head_dim": (f"vs head_dim (clauses: {', '.join(clause_ids)})",
                     [(d, redeclared(args.kernel, head_dims=(d,)), clause_ids) for d in ints(args.head_dims)]),
        "max_position": (f"vs max_position (clauses: {', '.join(clause_ids)})",
                         [(m, redeclared(args.kernel, max_position=m), clause_ids) for m in ints(args.max_positions)]),
        "clauses": (f"vs number of clauses (the first k of: {', '.join(ordered)})",
                    [(k, redeclared(args.kernel), ordered[:k]) for k in ints(args.clause_counts)]),
    }
    wanted = [s for s in args.sweep.split(",") if s]
    unknown = set(wanted) - set(every)
    if unknown:
        sys.exit(f"unknown sweeps {sorted(unknown)}; expected some of {', '.join(every)}")
    return {name: every[name] for name in wanted}


def plot(results: dict[str, list], kernel: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4), squeeze=False)
    for ax, (name, rows) in zip(axes[0], results.items()):
        xs = [x for x, _ in rows]
        ax.plot(xs, [r["suite_cpu"] for _, r in rows], "o-", label="suite")
        ax.plot(xs, [r["kernel_cpu"] for _, r in rows], "s--", label="kernel")
        ax.set_xlabel(LABELS[name])
        ax.set_ylabel("CPU seconds")
        if name != "clauses":
            ax.set_xscale("log", base=2)
        ax.set_ylim(bottom=0)
        ax.legend()
    fig.suptitle(f"pe-spec suite time, examples:{kernel}, ci profile ({os.cpu_count()}-core CPU, loaded)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default="rope_interleaved_pairs")
    ap.add_argument("--sweep", default="head_dim,max_position,clauses")
    ap.add_argument("--clauses", default=",".join(DEFAULT_CLAUSES))
    ap.add_argument("--head-dims", default="16,64,128,256")
    ap.add_argument("--max-positions", default=f"{2**11},{2**16},{2**20},{2**24},{2**31 - 1}")
    ap.add_argument("--clause-counts", default="1,2,4,8,16")
    ap.add_argument("--repeat", type=int, default=3, help="runs per point (the median is reported)")
    ap.add_argument("--plot", default=None, help="write a PNG with the sweeps (matplotlib)")
    args = ap.parse_args()
    import torch

    print(f"suite time scaling on examples:{args.kernel} (ci profile, in-process, median of {args.repeat} runs per point), "
          f"{os.cpu_count()} cores, torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}")
    results: dict[str, list] = {}
    for name, (title, points) in sweeps(args).items():
        print(f"{title}\n{header(name)}")
        rows = results[name] = []
        for x, impl, clause_ids in points:
            r = point(impl, clause_ids, args.repeat)
            rows.append((x, r))
            print(line(x, r), flush=True)
    print(f"load average now {os.getloadavg()[0]:.2f}")
    if args.plot:
        plot(results, args.kernel, args.plot)


if __name__ == "__main__":
    main()
