"""Declares the interleaved (GPT-J / Meta) layout but rotates half-split (GPT-NeoX) pairs.

Bug: the kernel pairs channel i with i + d/2 (``rotate_half``) while its declaration, like the
checkpoint it serves, pairs (2i, 2i+1). The map is still a rotation, just of the wrong channel
pairs: each declared pair (2i, 2i+1) is mixed with channels of other pairs at other frequencies.

Regime: any position > 0 with rotary_dim >= 4 (for a single pair the layouts coincide); every dtype.

Mirrors: TransformerLensOrg/TransformerLens #365 (GPT-J got NeoX rotate_half instead of
rotate-every-two, B-LAY-12) and vllm-project/vllm #49290 (an M-RoPE kernel hard-coding the
NeoX rotation for GPT-J style models, B-LAY-06).

Caught by: rope.reference (main) and rope.norm (the declared pairs do not keep their norms),
plus the clauses that compare with the reference (rope.cache-coverage, rope.gradient,
impl.environment, impl.compile). rope.composition and rope.linearity fail incidentally: the
kernel's rounding on its own pairs, at other pairs' frequencies, exceeds the per-pair
allowance. It is a rotation of its own pairs, applied row by row, so q.k stays relative and a
partial call gives the rows of the full call: rope.relative-shift and rope.positions pass.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="interleaved")  # BUG: the computation below is the half layout
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
