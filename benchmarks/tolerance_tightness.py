"""How tight is the tolerance model? Worst observed/allowed error ratio of the bundled correct
RoPE kernels, per dtype and position regime (issue 2 target: above 1/16 for every dtype).

    python benchmarks/tolerance_tightness.py [--vectors 2048]

A ratio near 1 means the allowance is barely above what correct arithmetic produces; a ratio
far below 1 means a bug of that size would slip through. Pairs whose phase allowance is capped
(the allowed angle error exceeds 2 rad, so any rotation is allowed: fp32 at the fastest pairs
past ~2**22) say nothing about tightness and are counted separately.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from pe_spec import examples
from pe_spec.families.rope import Config, reference
from pe_spec.families.rope.contract import rotary_dims_for
from pe_spec.spec import tolerance

KERNELS = [impl for impl in examples.bundled().values() if impl.family == "rope"]
DTYPES = ("float32", "bfloat16", "float16")
REGIMES = {"<2^8": 0, "2^11": 2**11, "2^16": 2**16, "2^20": 2**20, "2^24": 2**24}
CONFIGS = [(128, 10000.0), (64, 500000.0), (128, 1e6)]


def measure(impl, dtype: str, regime_start: int, head_dim: int, base: float, vectors: int, rng) -> tuple[float, int]:
    layout = impl.declared["layout"]
    rotary = max(rotary_dims_for(impl, head_dim))    # full rotary unless the kernel declares less
    max_position = impl.get("max_position") or 2**25
    if regime_start + 64 >= max_position:
        return float("nan"), 0
    cfg = Config(head_dim, rotary, base, max_position)
    fn = impl.build(cfg)
    seq = 64
    positions = np.sort(rng.integers(regime_start, min(regime_start + 4096, max_position), seq))
    lead = (max(1, vectors // seq),)
    x = torch.from_numpy(rng.standard_normal((*lead, seq, head_dim), dtype=np.float32)).to(getattr(torch, dtype))
    y = fn(x, torch.from_numpy(positions))
    x64 = x.double().numpy()
    ref = reference.apply(x64, positions, rotary_dim=rotary, base=base, layout=layout)
    err = reference.pair_norms(y.double().numpy() - ref, rotary_dim=rotary, layout=layout)
    allowance = tolerance.pair_allowance(positions, reference.inverse_frequencies(rotary, base), dtype)
    allowed = allowance.allowed(reference.pair_norms(x64, rotary_dim=rotary, layout=layout))
    capped = np.broadcast_to(allowance.phase >= tolerance.MAX_PHASE_DISPLACEMENT, err.shape)
    ratio = err / allowed
    informative = ratio[~capped]
    return (float(informative.max()) if informative.size else float("nan")), int(capped.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=int, default=2048, help="vectors per (kernel, dtype, regime, config)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("worst observed/allowed error per rotated pair, bundled correct kernels (max over kernels and configs)")
    print(f"{'dtype':<10}" + "".join(f"{r:>10}" for r in REGIMES) + f"{'overall':>10}{'capped pairs':>14}")
    for dtype in DTYPES:
        row, capped_total, overall = [], 0, 0.0
        for start in REGIMES.values():
            worst = float("nan")
            for impl in KERNELS:
                for head_dim, base in CONFIGS:
                    r, capped = measure(impl, dtype, start, head_dim, base, args.vectors, rng)
                    capped_total += capped
                    if not np.isnan(r):
                        worst = r if np.isnan(worst) else max(worst, r)
            row.append(worst)
            overall = max(overall, worst) if not np.isnan(worst) else overall
        cells = "".join(f"{v:>10.3f}" if not np.isnan(v) else f"{'-':>10}" for v in row)
        verdict = "ok" if overall > 1 / 16 else "TOO LOOSE"
        print(f"{dtype:<10}{cells}{overall:>10.3f}{capped_total:>14}   target > 1/16: {verdict}")


if __name__ == "__main__":
    main()
