"""cos/sin cache indexed with positions clamped to its last row.

Bug: the kernel builds cos/sin tables for positions 0..max_position-1 and clamps the index,
``positions.clamp(max=max_position - 1)``, so every position past the cache silently gets the
rotation of max_position - 1 (all distinct tail positions collapse onto one) instead of raising.

Regime: only positions >= max_position (declared 2**16 here); all served positions are exact.

Mirrors: P14 (an out-of-range position must raise, never wrap or clamp); vllm-project/vllm
#56446 (indexing past the cos/sin cache, B-SCL-16); unslothai/unsloth #10681 (the long cache
never built at exactly the pretraining length, B-SCL-21).

Caught by: rope.cache-coverage only.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half", max_position=2**16)
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))
    t = torch.arange(cfg.max_position, dtype=torch.int64).float()
    freqs = t[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos_cached, sin_cached = emb.cos(), emb.sin()

    def apply(x, positions):
        idx = positions.clamp(0, cfg.max_position - 1)  # BUG: clamps silently instead of raising
        cos = cos_cached.to(x.device)[idx].to(x.dtype)
        sin = sin_cached.to(x.device)[idx].to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
