"""Off-by-one positions: rotates by p + 1.

Bug: the kernel treats positions as 0-based indices into a table whose row 0 is reserved
(fairseq-style ``padding_idx + 1`` origin), so token p gets the rotation of p + 1. Relative
scores survive (both q and k are off by one), which is why such a port looks fine in attention.

Regime: every position, including 0; every dtype.

Mirrors: facebookresearch/fairseq #1177 ("Position numbers begin at padding_idx+1") and the OPT
offset of 2 in huggingface/transformers #20761 (B-SIN-04).

Caught by: rope.zero (main), rope.composition (R(a+1)R(b+1) = R(a+b+2)), rope.reference and the
clauses that compare with it (rope.cache-coverage, rope.gradient, impl.environment,
impl.compile). rope.relative-shift and rope.positions (every row is off by the same one) pass.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        positions = positions + 1  # BUG: 1-based positions (row 0 of the table is "padding")
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
