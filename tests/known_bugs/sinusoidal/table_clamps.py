"""A fixed-length table that clamps positions past its end.

Bug: the module precomputes the table once for a fixed ``max_len`` (1024 here, a common
block size; 5000 in the PyTorch tutorial and the Annotated Transformer) and declares that it
serves 65536 positions; positions past the table are clamped, ``positions.clamp(max=max_len -
1)``, instead of raising or growing the table. Every position from 1023 on gets row 1023: the
tail of a long sequence collapses onto a single encoding and the model cannot tell those tokens
apart.

Regime: configurations with max_position > 1024 (1500 and up are drawn) and positions >= 1024;
shorter tables are exact.

Mirrors: the learned/fixed-length table limit issue 3 names (a table must serve every position
below its declared maximum); the tail collapse of NVIDIA/Megatron-LM #535 (B-PREC-06) and
huggingface/diffusers #13922 (B-PREC-10), here by indexing rather than rounding.

Caught by: sinusoidal.uniqueness (main: positions 1023, 1024, ... share a row);
sinusoidal.reference; sinusoidal.linear-offset and sinusoidal.offset-dot (p -> p + k is the
identity for clamped rows but not for the others); impl.environment and impl.compile. Every row is a true
sinusoid row, so sinusoidal.norm and sinusoidal.bounded pass.
"""
import math

import torch

from pe_spec import sinusoidal

MAX_LEN = 1024


@sinusoidal.implementation(convention="vaswani", max_position=65536)
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    position = torch.arange(MAX_LEN, dtype=torch.int64).float()[:, None]
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.int64).float() * (-math.log(cfg.base) / d))
    pe = torch.zeros(MAX_LEN, d, dtype=torch.float32)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    pe = pe.to(getattr(torch, cfg.dtype)).to(cfg.device)

    def table(positions: torch.Tensor) -> torch.Tensor:
        return pe[positions.clamp(0, MAX_LEN - 1).to(pe.device)]  # BUG: clamps silently past MAX_LEN

    return table
