"""Partial rotary applied to the trailing slice instead of the leading one.

Bug: with rotary_dim = head_dim / 4 (GPT-NeoX ``rotary_pct = 0.25``) the kernel rotates
``x[..., -r:]`` and passes ``x[..., :-r]`` through, the DeepSeek ``[nope | rope]`` convention,
while the spec (and the checkpoint) rotates the prefix ``x[..., :r]``. The rotated slice is a
correct rotation, so norms, relative scores and composition hold; it is just the wrong channels.

Regime: every position > 0 (at 0 both slices are left unchanged) and every dtype; the
pass-through channels differ at every position.

Mirrors: raullenchai/Rapid-MLX #1225 (the first patch scaled the leading slice where the
rotary channels are the trailing ones, B-PART-06); P7's "slice position matches the spec".

Caught by: rope.pass-through (main), rope.reference and the clauses that compare with it
(rope.cache-coverage, rope.gradient, impl.environment, impl.compile). The declared rotary
channels come back unchanged, so rope.norm, rope.zero, rope.composition and rope.positions pass.
rope.relative-shift can fail incidentally, on the examples that reach it (small head_dim, e.g.
6): the score's allowance covers the declared rotary prefix only, not the rounding of the
wrongly rotated suffix.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half", rotary_dims=(0.25,))
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rest, rot = x[..., :-r], x[..., -r:]  # BUG: the rotary channels are the first r, not the last r
        return torch.cat((rest, rot * cos + rotate_half(rot) * sin), dim=-1)

    return apply
