"""Positions cast to float16 before the angle is formed.

Bug: ``position = positions.half()`` (the model was converted with ``.half()``, so the position
vector is made "like" the parameters) before the product with float32 frequencies. float16
represents integers exactly only up to 2048: above it neighbouring positions collapse onto one
value (spacing 2 from 2048, 4 from 4096, ... 32 from 32768), and from 65520 on they round to
inf, so the angles are inf and the table is NaN.

Regime: positions > 2048 for every output dtype (the cast does not depend on cfg.dtype); NaN
rows from 65520 on (max_position 65536).

Mirrors: NVIDIA/Megatron-LM #535 (``seq.type_as(inv_freq)`` casts positions to fp16, tail
positions collapse onto one embedding, B-PREC-06); huggingface/diffusers #13922 (positions near
65536 merged in low precision, every token the same embedding, B-PREC-10).

Caught by: sinusoidal.reference (main); sinusoidal.uniqueness (2049 rounds to 2048, 2603 and 2605
to 2604: rows the reference keeps apart are shared); sinusoidal.linear-offset and
sinusoidal.offset-dot (rounding the position is not shift-invariant); sinusoidal.norm and
sinusoidal.bounded (NaN rows from 65520 on); impl.environment and impl.compile. impl.determinism compares the
kernel with itself: equal NaNs at the same positions agree, and it passes.
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.int64).float() * (-math.log(cfg.base) / d))

    def table(positions: torch.Tensor) -> torch.Tensor:
        position = positions.half()  # BUG: integers above 2048 are not representable in fp16
        ang = position.float()[:, None] * div_term[None, :]
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
