"""rotary-embedding-torch (lucidrains): one implementation per public path of RotaryEmbedding.

``pe-spec check rotary-embedding-torch:NAME`` with NAME one of
  rotate_queries_or_keys   t rotated at offset..offset+n-1 (its freqs cache included)
  apply_rotary_emb         freqs = RotaryEmbedding(positions), then apply_rotary_emb(freqs, t)
  cached_keys              rotate_queries_with_cached_keys(q, k, offset), q a suffix of k
  partial_start_index      apply_rotary_emb(..., start_index=head_dim - rotary_dim)
All use RotaryEmbedding(dim=rotary_dim, theta=base) with its defaults ('lang' freqs, pairs
(2i, 2i+1)); a rotary_dim below head_dim is the README's partial rotary (start_index 0).
xpos, 'pixel'/'constant' freqs, interpolate_factor and the fused flash-attention kernels are
other encodings or not RoPE kernels: see docs/findings/rotary-embedding-torch.md.
"""
from __future__ import annotations

import copy

import torch

from pe_spec import rope
from pe_spec.adapters import require

_ret = require("rotary_embedding_torch", "rotary-embedding-torch")


def _module(cfg: rope.Config):
    # RotaryEmbedding.__init__ computes theta_rescale_factor ** (dim / (dim - 2)): dim 2 divides by zero.
    if cfg.rotary_dim == 2:
        raise rope.Unsupported("RotaryEmbedding(dim=2) raises ZeroDivisionError")
    module = _ret.RotaryEmbedding(dim=cfg.rotary_dim, theta=cfg.base)
    per_device = {module.device: module}

    def on(device: torch.device):
        # Users move the module with the model (model.to(device)); one copy per device here.
        if device not in per_device:
            per_device[device] = copy.deepcopy(module).to(device)
        return per_device[device]

    return on


def _runs(positions: torch.Tensor) -> list[tuple[int, int, int]]:
    """Maximal runs of consecutive positions as (first row, end row, first position)."""
    p = positions.tolist()
    runs, start = [], 0
    for i in range(1, len(p) + 1):
        if i == len(p) or p[i] != p[i - 1] + 1:
            runs.append((start, i, p[start]))
            start = i
    return runs


@rope.implementation(layout="interleaved", autograd=True,
                     name="rotary-embedding-torch:rotate_queries_or_keys")
def rotate_queries_or_keys(cfg: rope.Config):
    """RotaryEmbedding.rotate_queries_or_keys(t, seq_dim=-2, offset=first position), once per run of
    consecutive positions (the method only serves offset..offset+n-1)."""
    on = _module(cfg)

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        emb = on(x.device)
        return torch.cat([emb.rotate_queries_or_keys(x[..., a:b, :], seq_dim=-2, offset=p)
                          for a, b, p in _runs(positions)], dim=-2)

    return apply


@rope.implementation(layout="interleaved", autograd=True,
                     name="rotary-embedding-torch:apply_rotary_emb")
def apply_rotary_emb(cfg: rope.Config):
    """freqs = RotaryEmbedding.forward(positions) (any positions), then apply_rotary_emb(freqs, t)."""
    on = _module(cfg)

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return _ret.apply_rotary_emb(on(x.device)(positions), x)

    return apply


@rope.implementation(layout="interleaved", autograd=True,
                     name="rotary-embedding-torch:cached_keys")
def cached_keys(cfg: rope.Config):
    """RotaryEmbedding.rotate_queries_with_cached_keys(q, k, offset), per run of consecutive positions
    s..s+n-1: k holds the run, q its last n - n//2 rows, offset=s, so q sits at
    k_len - q_len + offset. The first n//2 rows are the rotated keys when s == 0 (keys are rotated
    from 0, ignoring offset); otherwise a second call with q = k = those rows and offset=s."""
    on = _module(cfg)

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        emb, out = on(x.device), []
        for a, b, s in _runs(positions):
            k = x[..., a:b, :]
            h = (b - a) // 2
            q_rot, k_rot = emb.rotate_queries_with_cached_keys(k[..., h:, :], k, seq_dim=-2, offset=s)
            if h and s == 0:
                out.append(k_rot[..., :h, :])
            elif h:
                out.append(emb.rotate_queries_with_cached_keys(k[..., :h, :], k[..., :h, :], seq_dim=-2,
                                                               offset=s)[0])
            out.append(q_rot)
        return torch.cat(out, dim=-2)

    return apply


@rope.implementation(layout="interleaved", rotary_dims=(0.25, 0.5), autograd=True,
                     name="rotary-embedding-torch:partial_start_index")
def partial_start_index(cfg: rope.Config):
    """apply_rotary_emb(freqs, t, start_index=head_dim - rotary_dim): the library rotates channels
    start_index..start_index+rotary_dim-1; pe-spec's leading rotary channels are moved there and back
    (a channel permutation, exact)."""
    on = _module(cfg)
    r, d = cfg.rotary_dim, cfg.head_dim

    def apply(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        t = torch.cat((x[..., r:], x[..., :r]), dim=-1)
        y = _ret.apply_rotary_emb(on(x.device)(positions), t, start_index=d - r)
        return torch.cat((y[..., d - r:], y[..., :d - r]), dim=-1)

    return apply
