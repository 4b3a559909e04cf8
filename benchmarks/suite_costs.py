"""Where one rope.reference example spends its time: the kernel call against each step the suite
adds (input generation, the invoke guard, float64 conversion, reference, pair norms, allowance,
comparison), for a typical and a large example, plus the cost of drawing one example.

    python benchmarks/suite_costs.py [--kernel rope_interleaved_complex] [--reps 20]

The steps are the ones the rope.reference check (properties/rope/test_rope.py) runs through its
RopeCase (properties/rope/case.py) and the engine: RopeCase.make_x, RopeCase.invoke (the guard
that puts back inputs a kernel wrote into), to_f64 (pe_properties.tensors), reference.apply,
reference.pair_norms, tolerance.pair_allowance(...).allowed, engine.measure; each is timed on its
own (best of --reps), so the figures are per call, not a profile. Drawing: hypothesis drawing
the RoPE examples strategy (pe_properties.rope.strategies.examples) once per example (ci-like
settings), against an example that draws nothing.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def best(fn, reps: int) -> float:
    t = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def steps(kernel: str, lead: tuple[int, ...], dtype: str, reps: int) -> dict[str, float]:
    from pe_properties.engine import Example, measure
    from pe_properties.rope.case import RopeCase
    from pe_properties.tensors import to_f64

    from pe_spec import examples
    from pe_spec.families.rope import reference
    from pe_spec.spec import tolerance

    impl = getattr(examples, kernel)
    cfg = {"head_dim": 128, "rotary_dim": 128, "base": 10000.0, "max_position": 131072, "scaling": "none"}
    ex = Example(config=cfg, dtype=dtype, lead=lead, positions=tuple(range(1000, 1024)), seed=1)
    case = RopeCase(impl, ex, "rope.reference")
    x, pt = case.make_x(), case.positions_tensor()
    fn = case.fn
    y = fn(x, pt)
    xf, yf = to_f64(x), to_f64(y)
    ref = reference.apply(xf, case.positions, rotary_dim=128, base=1e4, layout=case.layout)
    err = reference.pair_norms(yf - ref, rotary_dim=128, layout=case.layout)
    pn = reference.pair_norms(xf, rotary_dim=128, layout=case.layout)
    allowed = tolerance.pair_allowance(case.positions, case.inv_freq, dtype).allowed(pn)
    return {
        "kernel call": best(lambda: fn(x, pt), reps),
        "make_x": best(case.make_x, reps),
        "invoke guard (clone, compare)": best(lambda: case.invoke((x, pt)), reps) - best(lambda: fn(x, pt), reps),
        "to_f64 (x and y)": best(lambda: (to_f64(x), to_f64(y)), reps),
        "reference.apply": best(lambda: reference.apply(xf, case.positions, rotary_dim=128, base=1e4,
                                                        layout=case.layout), reps),
        "pair_norms (error and x)": best(lambda: (reference.pair_norms(yf - ref, rotary_dim=128, layout=case.layout),
                                                  reference.pair_norms(xf, rotary_dim=128, layout=case.layout)), reps),
        "allowance": best(lambda: tolerance.pair_allowance(case.positions, case.inv_freq, dtype).allowed(pn), reps),
        "measure (ratio, worst)": best(lambda: measure(case, err, allowed, "", lambda i: ""), reps),
    }


def draw_cost(kernel: str, n: int = 100) -> tuple[float, float]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pe_properties.rope.strategies import examples as rope_examples

    from pe_spec import examples

    impl = getattr(examples, kernel)

    def run(draw_it: bool) -> float:
        @settings(max_examples=n, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def t(data):
            if draw_it:
                data.draw(rope_examples(impl, "float32"))

        t0 = time.perf_counter()
        t()
        return (time.perf_counter() - t0) / n

    run(True)
    return run(False), run(True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default="rope_interleaved_complex")
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    import torch

    print(f"per-call cost of each step of one rope.reference example, examples:{args.kernel}, head_dim 128, "
          f"seq 24; {os.cpu_count()} cores, torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}")
    cols = [((1, 5), "float32"), ((8, 32), "float32"), ((8, 32), "bfloat16")]
    table = {f"lead {'x'.join(map(str, lead))} {dt}": steps(args.kernel, lead, dt, args.reps) for lead, dt in cols}
    names = list(next(iter(table.values())))
    print(f"  {'step (ms)':<32}" + "".join(f"{c:>22}" for c in table))
    for name in names:
        print(f"  {name:<32}" + "".join(f"{table[c][name] * 1e3:22.3f}" for c in table))
    suite = {c: sum(v for k, v in t.items() if k != "kernel call") for c, t in table.items()}
    print(f"  {'suite steps, total':<32}" + "".join(f"{suite[c] * 1e3:22.3f}" for c in table))
    print(f"  {'suite / kernel':<32}" + "".join(f"{suite[c] / table[c]['kernel call']:22.2f}" for c in table))
    print(f"  {'elements of x':<32}" + "".join(f"{int(np.prod(lead)) * 24 * 128:22d}" for lead, _ in cols))
    empty, drawn = draw_cost(args.kernel)
    print(f"drawing one example (rope.strategies.examples): {(drawn - empty) * 1e3:.2f} ms "
          f"(hypothesis per-example overhead without drawing {empty * 1e3:.2f} ms)")
    print(f"load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
