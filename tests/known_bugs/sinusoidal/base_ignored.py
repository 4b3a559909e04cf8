"""The base hard-coded to 10000.

Bug: the table takes a ``base`` (max_timescale) argument but the frequency line still reads
``math.log(10000.0)``, so every configuration gets the paper's 10000 whatever it asks for.
Correct for base 10000; any other base (audio models, long-context variants) silently gets the
wrong wavelengths.

Regime: base != 10000 (500 and 100000 are drawn), every dim >= 4 (dim 2 has only w_0 = 1),
positions p >= 1, every dtype.

Mirrors: the base-plumbing bugs of B-PREC-07 (vllm-project/vllm #1004: the cache built without
the configured base's precision) and the RoPE sibling tests/known_bugs/base_ignored.py; the
sinusoidal formula's 10000 is a parameter (Whisper's max_timescale, tensor2tensor's
max_timescale).

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile. The table is a true sinusoidal
table for base 10000: sinusoidal.linear-offset, sinusoidal.offset-dot, sinusoidal.norm,
sinusoidal.bounded and sinusoidal.uniqueness pass.
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.int64).float() * (-math.log(10000.0) / d))  # BUG: cfg.base

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = positions.to(torch.float32)[:, None] * div_term[None, :]
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
