"""Exponent halved: i/d instead of 2i/d.

Bug: ``freqs = base ** (-arange(d // 2) / d)``: the pair index i is used where the paper has
2i (the proposed "fix" in DongjunLee/transformer-tensorflow #6). Every frequency is the square
root of the right one: the lowest is base**(-(d-2)/(2d)), about 1/100 instead of about 1/10000
for base 10000, so the log-frequency range is halved and the longest wavelength is about
2 pi * 100.

Regime: every dim >= 4 (dim 2 has only w_0 = 1), every position p >= 1, every dtype.

Mirrors: DongjunLee/transformer-tensorflow #6 (the i/d reading, B-SIN-03); the same slip in
RoPE inv_freq code, rasbt/LLMs-from-scratch #410.

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile; sinusoidal.linear-offset fails
incidentally: the map PE(p) -> PE(p + k) is a fixed rotation for this kernel too, but its angles
are sqrt(base**(2i/d)) times larger than p * w_i, and their float32 rounding (at p + k ~ 14000,
k large) exceeds the allowance the tolerance model sizes for the true w_i. The table is a true
sinusoidal table at other frequencies: sinusoidal.offset-dot, sinusoidal.norm,
sinusoidal.bounded and sinusoidal.uniqueness pass.
"""
import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    i = torch.arange(d // 2, dtype=torch.int64).float()
    freqs = 1.0 / cfg.base ** (i / d)  # BUG: i / d, the paper has 2i / d (i counts pairs)

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = positions.to(torch.float32)[:, None] * freqs[None, :]
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
