"""Exponent doubled: the pair index i read as a dimension index, then doubled again.

Bug: the paper writes PE(pos, 2i) = sin(pos / 10000^(2i/d)) with i counting (sin, cos) PAIRS.
Reading i as the column index 2i and keeping the formula's factor 2 gives
``base ** (-2 * (2 * i) / d)``: here the code takes ``arange(0, d, 2)`` (already 2i) and divides
by ``d / 2`` instead of d. Every frequency is squared (w_i = base**(-4i/d)), so the upper half of
the pairs runs below 1/base (down to base**(-2(d-2)/d), about 1e-8 for base 10000): those
channels are near-constant over any sequence, and the wavelengths no longer span 2 pi ..
2 pi base.

Regime: every dim >= 4 (dim 2 has the single pair w_0 = 1, which is right), every position
p >= 1, every dtype; the angle error p (w_i - w_i^2) reaches whole radians by a few hundred
positions.

Mirrors: DongjunLee/transformer-tensorflow #6 and rasbt/LLMs-from-scratch #410 (is i the
dimension or the pair index? B-SIN-03); the classic confusion issue 3 names.

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile (which re-checks the table against
the reference). The table is still a set of true sinusoid pairs at fixed frequencies, so
sinusoidal.linear-offset, sinusoidal.offset-dot, sinusoidal.norm, sinusoidal.bounded and
sinusoidal.uniqueness pass.
"""
import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    two_i = torch.arange(0, d, 2, dtype=torch.int64).float()
    freqs = cfg.base ** (-2 * two_i / d)  # BUG: 2 * (2i) / d; the paper's 2i/d already counts columns

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = positions.to(torch.float32)[:, None] * freqs[None, :]
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
