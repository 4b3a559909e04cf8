"""A new user's kernels (tests/test_walkthrough.py): an HF-style kernel with a cos/sin cache sized by
cfg.max_position and no declarations, a Meta-style complex one, four bugs made by hand, a wrong
layout declaration, a kernel that hangs and one that takes 30 s a call."""
import torch
from pe_spec import rope


def _inv_freq(cfg, dtype=torch.float32, exponent_over=None):
    idx = torch.arange(0, cfg.rotary_dim, 2, dtype=torch.int64).to(torch.float32)
    return (1.0 / cfg.base ** (idx / (exponent_over or cfg.rotary_dim))).to(dtype).to(torch.float32)


def _rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _cached(cfg, inv_freq, index=lambda p, cfg: p):
    t = torch.arange(cfg.max_position, dtype=torch.int64).float()
    ang = t[:, None] * inv_freq[None, :]
    emb = torch.cat((ang, ang), -1)
    cos, sin = emb.cos(), emb.sin()
    r = cfg.rotary_dim

    def apply(x, positions):
        if int(positions.min()) < 0 or int(positions.max()) >= cfg.max_position:
            raise IndexError(f"positions outside the cos/sin cache [0, {cfg.max_position})")
        p = index(positions, cfg)
        c, s = cos[p].to(x.dtype), sin[p].to(x.dtype)
        rot = x[..., :r]
        return torch.cat((rot * c + _rotate_half(rot) * s, x[..., r:]), -1)
    return apply


@rope.implementation(layout="half")
def hf_rope(cfg):
    """cos/sin cache sized by cfg.max_position, no declarations."""
    return _cached(cfg, _inv_freq(cfg))


@rope.implementation(layout="interleaved")
def meta_rope(cfg):
    inv = _inv_freq(cfg)
    r = cfg.rotary_dim

    def apply(x, positions):
        ang = positions.float()[:, None] * inv[None, :]
        cis = torch.polar(torch.ones_like(ang), ang)
        z = torch.view_as_complex(x[..., :r].float().reshape(*x.shape[:-1], r // 2, 2).contiguous())
        return torch.cat((torch.view_as_real(z * cis).flatten(-2).to(x.dtype), x[..., r:]), -1)
    return apply


@rope.implementation(layout="half", max_position=2**17)
def bf16_inv_freq(cfg):
    return _cached(cfg, _inv_freq(cfg, torch.bfloat16))


@rope.implementation(layout="half", max_position=2**17)
def i_over_d(cfg):
    """theta_i = base**(-i/d) with i the pair index (should be 2i/d)."""
    idx = torch.arange(0, cfg.rotary_dim // 2, dtype=torch.int64).float()
    return _cached(cfg, 1.0 / cfg.base ** (idx / cfg.rotary_dim))


@rope.implementation(layout="half", max_position=2**17)
def decode_offset_dropped(cfg):
    """A decode step (one token) is rotated at position 0: the KV-cache offset is dropped."""
    return _cached(cfg, _inv_freq(cfg), index=lambda p, cfg: p if p.numel() > 1 else torch.zeros_like(p))


@rope.implementation(layout="half", max_position=2**17)
def clamped_cache(cfg):
    """Positions past 2048 are clamped to the cache's last row (a fixed 2048-row cache)."""
    return _cached(cfg, _inv_freq(cfg), index=lambda p, cfg: p.clamp(max=2047))


@rope.implementation(layout="interleaved", max_position=2**17)
def wrong_layout(cfg):
    """Declared interleaved, computes the half layout."""
    return _cached(cfg, _inv_freq(cfg))


@rope.implementation(layout="half", max_position=2**17)
def hangs(cfg):
    import time

    def apply(x, positions):
        time.sleep(10**6)
    return apply


@rope.implementation(layout="half", max_position=2**17)
def slow(cfg):
    import time
    inner = _cached(cfg, _inv_freq(cfg))

    def apply(x, positions):
        time.sleep(30)
        return inner(x, positions)
    return apply
