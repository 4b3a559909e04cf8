"""Correct sinusoidal tables, one per named convention, computed the way real code does (angles in
float32 from int64 positions, cast to the requested dtype at the end)."""
from __future__ import annotations

import math

import torch

from pe_spec import sinusoidal


def _angles(positions: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    with torch.autocast(device_type=positions.device.type, enabled=False):
        return positions.to(torch.float32)[:, None] * freqs.to(positions.device)[None, :]


@sinusoidal.implementation(convention="vaswani")
def sinusoidal_vaswani(cfg: sinusoidal.Config):
    """The paper's table: sin at 2i, cos at 2i+1, w_i = base^(-2i/d) (i counts pairs)."""
    freqs = torch.exp(torch.arange(0, cfg.dim, 2, dtype=torch.int64).to(torch.float32) * (-math.log(cfg.base) / cfg.dim))

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = _angles(positions, freqs)
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table


@sinusoidal.implementation(convention="concat")
def sinusoidal_concat(cfg: sinusoidal.Config):
    """[sin | cos] halves with the paper's frequencies (as allennlp and many libraries lay it out)."""
    freqs = 1.0 / cfg.base ** (torch.arange(0, cfg.dim, 2, dtype=torch.int64).to(torch.float32) / cfg.dim)

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = _angles(positions, freqs)
        return torch.cat((ang.sin(), ang.cos()), dim=-1).to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table


def _timescales(channels: int, base: float) -> torch.Tensor:
    """tensor2tensor's get_timing_signal_1d frequencies: exp(-k * ln(base) / max(K - 1, 1))."""
    k = channels // 2
    increment = math.log(base) / max(k - 1, 1)
    return torch.exp(torch.arange(k, dtype=torch.int64).to(torch.float32) * -increment)


@sinusoidal.implementation(convention="tensor2tensor")
def sinusoidal_tensor2tensor(cfg: sinusoidal.Config):
    """tensor2tensor: [sin | cos], frequencies down to exactly 1/base, odd dims padded with a zero column."""
    freqs = _timescales(cfg.dim, cfg.base)

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = _angles(positions, freqs)
        signal = torch.cat((ang.sin(), ang.cos()), dim=-1)
        signal = torch.nn.functional.pad(signal, (0, cfg.dim % 2))
        return signal.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table


@sinusoidal.implementation(convention="fairseq")
def sinusoidal_fairseq(cfg: sinusoidal.Config):
    """fairseq's SinusoidalPositionalEmbedding: tensor2tensor's table read at position + padding_idx + 1."""
    if cfg.dim < 4:
        raise sinusoidal.Unsupported("fairseq's (half_dim - 1) denominator needs dim >= 4")
    freqs = _timescales(cfg.dim, cfg.base)
    padding_idx = 1

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = _angles(positions + padding_idx + 1, freqs)
        signal = torch.nn.functional.pad(torch.cat((ang.sin(), ang.cos()), dim=-1), (0, cfg.dim % 2))
        return signal.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
