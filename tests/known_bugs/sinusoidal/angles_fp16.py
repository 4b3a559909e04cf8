"""Angles computed in float16.

Bug: the frequencies and positions are both made half precision (``model.half()`` converted the
``div_term`` buffer, and the position vector is cast "like" it), so ``position * div_term``, the
angle itself, is rounded to 11 significant bits: at angle t the error is up to t * 2**-11, a
whole radian by t ~ 2000, and positions from 65520 on are inf (NaN rows). The trig functions
and the final cast are fine; the damage is done before them.

Regime: every dtype; the angle error exceeds the fp32 tolerance from small positions on, and
exceeds pi (the encoding is noise) past about 4096 * pi; NaN rows from 65520.

Mirrors: deepspeedai/Megatron-DeepSpeed #206 (angles cast to fp16 before cos/sin, B-PREC-08);
NVIDIA/Megatron-LM #535 (positions in fp16, B-PREC-06).

Caught by: sinusoidal.reference (main); sinusoidal.linear-offset and sinusoidal.offset-dot (the
rounding depends on p); sinusoidal.uniqueness (positions above 2048 collapse in fp16);
sinusoidal.norm and sinusoidal.bounded (NaN rows from 65520 on); impl.environment and impl.compile.
impl.determinism compares the kernel with itself and passes (equal NaNs at equal places).
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.int64).float() * (-math.log(cfg.base) / d)).half()

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = positions.half()[:, None] * div_term[None, :]  # BUG: the angle is formed in float16
        ang = ang.float()
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
