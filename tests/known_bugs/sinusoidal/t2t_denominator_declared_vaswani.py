"""tensor2tensor's frequency increment in the paper's interleaved table.

Bug: the frequencies are computed the tensor2tensor way, ``log_timescale_increment =
log(base) / (num_timescales - 1)`` with num_timescales = d // 2, then laid out as the paper does
(sin at 2i, cos at 2i + 1) and declared as the paper's convention. The t2t denominator K - 1 is
not the paper's K = d / 2: w_i = base**(-i/(K-1)) instead of base**(-i/K), so the lowest
frequency is exactly 1/base rather than base**(-(d-2)/d), and every frequency but w_0 is a
little lower (for d = 512: w_255 = 1.0e-4 against 1.0366e-4, an angle error of 0.24 rad by
position 65535; for small d the gap is large: d = 4 gives w_1 = 1/base against base**(-1/2)).

Regime: every dim >= 4 (for d = 2, K - 1 = 0 and t2t's max(K - 1, 1) gives w_0 = 1, which is
right), positions p >= 1; the error grows with p, so it shows at long positions for large d
and at once for small d.

Mirrors: tensorflow/tensor2tensor #177 (the t2t formula is not the paper's; the PR to match
the paper was declined because it "breaks all trained models", B-SIN-02); formulas.md section 1
"where sources disagree".

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile. Layout and pairing are right, so
sinusoidal.linear-offset, sinusoidal.offset-dot, sinusoidal.norm, sinusoidal.bounded and
sinusoidal.uniqueness pass.
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    num_timescales = cfg.dim // 2
    # BUG: tensor2tensor's increment divides by (num_timescales - 1); the paper divides by num_timescales
    log_timescale_increment = math.log(cfg.base) / max(num_timescales - 1, 1)
    inv_timescales = torch.exp(torch.arange(num_timescales, dtype=torch.int64).float() * -log_timescale_increment)

    def table(positions: torch.Tensor) -> torch.Tensor:
        scaled_time = positions.to(torch.float32)[:, None] * inv_timescales[None, :]
        out = torch.stack((scaled_time.sin(), scaled_time.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
