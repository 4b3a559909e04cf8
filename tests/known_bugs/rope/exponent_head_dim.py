"""Partial rotary with the frequency exponent over head_dim instead of rotary_dim.

Bug: with rotary_dim = head_dim / 4 (GPT-NeoX ``rotary_pct = 0.25``) the kernel rotates the right
channels but computes ``w_i = base**(-2i / head_dim)``: the r/2 frequencies only span a quarter
of the log-frequency range (the slowest pair turns at base**(-(r-2)/head_dim) instead of
base**(-(r-2)/r)). The two agree at position 0 and drift apart with distance.

Regime: rotary_dim < head_dim with at least two pairs, any position > 0, every dtype.

Mirrors: pie-project/pie #603 (rope_partial used theta**(-2i/head_dim); top-1 agreement went
from 60% to 92.5% after the fix, B-PART-01); apache/tvm #18102 (head_dim//2 vs rotary_dim//2,
B-PART-07).

Caught by: rope.reference (main) and the clauses that compare with it (rope.cache-coverage,
rope.gradient, impl.environment, impl.compile). rope.composition fails incidentally, on the
examples that reach such angles: the wrong frequencies are larger than w_i, so the kernel's own
angle rounding exceeds the allowance sized for w_i. rope.relative-shift and rope.positions pass.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half", rotary_dims=(0.25,))
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / cfg.head_dim))  # BUG: / r

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
