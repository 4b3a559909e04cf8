"""Four correct RoPE kernels: half layout with a cos/sin cache (HF Llama style), interleaved via
complex multiplication (Meta style), interleaved via explicit pairs (GPT-J style), and partial
rotary (GPT-NeoX rotary_pct = 0.25)."""
from __future__ import annotations

import torch

from pe_spec import rope


def inverse_frequencies(rotary_dim: int, base: float) -> torch.Tensor:
    # int64 arange, then float32: immune to set_default_dtype and DeepSpeed's arange patch.
    exponents = torch.arange(0, rotary_dim, 2, dtype=torch.int64).to(torch.float32) / rotary_dim
    return 1.0 / (base ** exponents)


def fp32_angles(positions: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    # Outside autocast: an ambient bf16 autocast must not lower the angle precision.
    with torch.autocast(device_type=positions.device.type, enabled=False):
        return positions.to(torch.float32)[:, None] * inv_freq.to(positions.device)[None, :]


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half", max_position=2**17)
def rope_half_cached(cfg: rope.Config):
    """cos/sin tables for positions 0..max_position-1 built once in fp32 and indexed by position."""
    inv_freq = inverse_frequencies(cfg.rotary_dim, cfg.base)
    angles = fp32_angles(torch.arange(cfg.max_position, dtype=torch.int64), inv_freq)
    cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
    r = cfg.rotary_dim

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        if int(positions.max()) >= cfg.max_position or int(positions.min()) < 0:
            raise IndexError(f"position outside the cos/sin cache [0, {cfg.max_position})")
        c = cos[positions].to(x.dtype)
        s = sin[positions].to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * c + rotate_half(rot) * s, rest), dim=-1)

    return apply


@rope.implementation(layout="interleaved")
def rope_interleaved_complex(cfg: rope.Config):
    """Meta's formulation: pairs (2i, 2i+1) viewed as complex numbers times exp(i p w)."""
    inv_freq = inverse_frequencies(cfg.rotary_dim, cfg.base)
    r = cfg.rotary_dim

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        angles = fp32_angles(positions, inv_freq)
        freqs_cis = torch.polar(torch.ones_like(angles), angles)
        rot = torch.view_as_complex(x[..., :r].to(torch.float32).reshape(*x.shape[:-1], r // 2, 2).contiguous())
        out = torch.view_as_real(rot * freqs_cis).flatten(-2).to(x.dtype)
        return torch.cat((out, x[..., r:]), dim=-1)

    return apply


@rope.implementation(layout="interleaved")
def rope_interleaved_pairs(cfg: rope.Config):
    """GPT-J's rotate_every_two: explicit even/odd channels, math in fp32."""
    inv_freq = inverse_frequencies(cfg.rotary_dim, cfg.base)
    r = cfg.rotary_dim

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        angles = fp32_angles(positions, inv_freq)
        c, s = angles.cos(), angles.sin()
        a = x[..., 0:r:2].to(torch.float32)
        b = x[..., 1:r:2].to(torch.float32)
        out = torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2).to(x.dtype)
        return torch.cat((out, x[..., r:]), dim=-1)

    return apply


@rope.implementation(layout="half", rotary_dims=(0.25,))
def rope_half_partial(cfg: rope.Config):
    """GPT-NeoX style partial rotary: the first quarter of each head is rotated, the rest kept."""
    inv_freq = inverse_frequencies(cfg.rotary_dim, cfg.base)
    r = cfg.rotary_dim

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        angles = fp32_angles(positions, inv_freq)
        emb = torch.cat((angles, angles), dim=-1)
        rot = x[..., :r]
        out = rot * emb.cos().to(x.dtype) + rotate_half(rot) * emb.sin().to(x.dtype)
        return torch.cat((out, x[..., r:]), dim=-1)

    return apply
