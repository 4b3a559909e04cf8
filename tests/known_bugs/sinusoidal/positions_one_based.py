"""Positions start at 1.

Bug: the table is built for "the 1st, 2nd, ... token": ``position = positions + 1`` (or
``torch.arange(1, max_len + 1)``), so the encoding of position p is the paper's PE(p + 1).
Position 0 encodes as (sin w_i, cos w_i) instead of (0, 1, 0, 1, ...): every row is shifted
by one, which a model trained with one convention and served with the other silently absorbs.

Regime: every position, every dim and dtype.

Mirrors: the fairseq/OPT offset confusion in reverse: facebookresearch/fairseq #1177,
huggingface/transformers #5285 and #20761 (position numbers begin at padding_idx + 1 by
design; ports that disagree about the origin read rows shifted by it, B-SIN-04).

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile. A constant shift of the position
keeps every relative property: sinusoidal.linear-offset, sinusoidal.offset-dot,
sinusoidal.norm, sinusoidal.bounded and sinusoidal.uniqueness pass.
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    freqs = torch.exp(torch.arange(0, d, 2, dtype=torch.int64).float() * (-math.log(cfg.base) / d))

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = (positions + 1).to(torch.float32)[:, None] * freqs[None, :]  # BUG: 1-based positions
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
