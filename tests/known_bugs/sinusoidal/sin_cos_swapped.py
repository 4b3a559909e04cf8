"""sin and cos swapped: cos at the even columns, sin at the odd ones.

Bug: ``pe[:, 0::2] = torch.cos(position * div_term)`` and ``pe[:, 1::2] = torch.sin(...)``:
the two assignments of the Annotated Transformer's table exchanged. Each pair holds
(cos t, sin t) = (sin(pi/2 - t), cos(pi/2 - t)): position 0 encodes as (1, 0, 1, 0, ...)
instead of (0, 1, 0, 1, ...), and a declared pair turns by -k w_i, not +k w_i, from p to p + k.

Regime: every position (position 0 included), every dim and dtype.

Mirrors: the sin/cos argument-order pitfall sinusoidal.reference lists; it is the sinusoidal
twin of RoPE's cos/sin swap (tests/known_bugs/cos_sin_swapped.py). allenai/allennlp #2993
(B-SIN-01) shows how easily channel order goes unnoticed: nothing but a reference sees it.

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile. The offset map is still a fixed
rotation (by -k w_i), dot products are symmetric in sin and cos and norms do not see the order,
so sinusoidal.linear-offset, sinusoidal.offset-dot, sinusoidal.norm, sinusoidal.bounded and
sinusoidal.uniqueness pass.
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
        pe[:, 0::2] = torch.cos(position * div_term)  # BUG: the paper puts sin at 2i
        pe[:, 1::2] = torch.sin(position * div_term)  # and cos at 2i + 1
        return pe.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
