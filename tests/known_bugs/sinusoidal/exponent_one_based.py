"""RoFormer's 1-based exponent used with a 0-based index.

Bug: the frequency is written as ``base ** (-2 * (i - 1) / d)`` (RoFormer numbers its pairs
i = 1..d/2) while i runs over ``arange(d // 2)`` from 0. Every frequency is multiplied by
base**(2/d): w_0 = base**(2/d) > 1 radian per position (1.33 for d = 64, base 10000), and the
lowest frequency is base**(-(d-4)/d) instead of base**(-(d-2)/d).

Regime: every dim, every position p >= 1, every dtype.

Mirrors: bkitano/llama-from-scratch #8 (theta = 10000^(-2(i-1)/d) with a 0-based i, quoted in
B-SIN-03).

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile; sinusoidal.linear-offset,
sinusoidal.offset-dot and sinusoidal.uniqueness fail incidentally: the offset map is a fixed
rotation for this kernel too and its dot products depend on the offset only, but for small dims
the kernel's w_0 = base**(2/d) is huge (316 for d = 4 and base 1e5, base itself for d = 2), and
the float32 rounding of p * w_0 at a few thousand positions exceeds the allowance the tolerance
model sizes for the true w_0 = 1; in bfloat16 with one pair (d = 2) those angles land on the
coarse bf16 grid of the unit circle, where two positions whose declared encodings are far apart
collide (939 and 1465). The table is still made of true sinusoid pairs: sinusoidal.norm and
sinusoidal.bounded pass.
"""
import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    i = torch.arange(d // 2, dtype=torch.int64).float()
    freqs = cfg.base ** (-2 * (i - 1) / d)  # BUG: RoFormer's i is 1-based, this one starts at 0

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = positions.to(torch.float32)[:, None] * freqs[None, :]
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
