"""sin written twice: the cos line copy-pasted from the sin line.

Bug: ``pe[:, 1::2] = torch.sin(position * div_term)``, a copy of the line above it with the
slice changed but not the function. Each pair is (sin t, sin t): its norm is sqrt(2)|sin t|,
between 0 and sqrt(2), position 0 is all zeros, and no linear map takes PE(p) to PE(p + k)
(sin of an angle alone does not determine sin of the shifted angle).

Regime: every position, every dim and dtype.

Mirrors: the "sin used twice" failure sinusoidal.norm guards against (a copy-paste of the
Annotated Transformer / PyTorch tutorial table, B-SIN-01's layout code).

Caught by: sinusoidal.norm (main), sinusoidal.reference, sinusoidal.linear-offset (the angle
atan2(sin t, sin t) is pi/4 or -3 pi/4, not t), sinusoidal.offset-dot (<PE(p), PE(p + k)> =
sum_i [cos(k w_i) - cos((2p + k) w_i)] depends on p) and impl.environment and impl.compile; sinusoidal.uniqueness
incidentally, where the draws reach it: sin alone does not tell t from pi - t, and near
sin t = +-1 it is flat, so in float16 with few pairs (dim 6, 65536 positions) two positions whose
sines all round alike collide, while their cosines, which the reference keeps, differ (positions
12348 and 44430). In exact arithmetic the sin-only encoding is still injective on integers
(w_0 = 1, and pi is irrational), so only that narrow float16 regime shows it. Values stay in
[-1, 1]: sinusoidal.bounded passes.
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.int64).float() * (-math.log(cfg.base) / d))

    def table(positions: torch.Tensor) -> torch.Tensor:
        position = positions.to(torch.float32)[:, None]
        pe = torch.zeros(len(positions), d, dtype=torch.float32)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.sin(position * div_term)  # BUG: copy-pasted; must be torch.cos
        return pe.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
