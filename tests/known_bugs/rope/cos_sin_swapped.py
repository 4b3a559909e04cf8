"""cos and sin swapped.

Bug: the helper returns ``(sin, cos)`` and the caller unpacks ``cos, sin = ...``, so the kernel
computes ``x * sin + rotate_half(x) * cos``: the rotation by pi/2 - p*w instead of p*w. It keeps
norms, and q.k is still relative (R(pi/2 - m w)^T R(pi/2 - n w) = R((m - n) w)), but position 0
is a quarter turn, not the identity, and rotations no longer compose.

Regime: every position, including 0; every dtype.

Mirrors: the cos/sin argument-order pitfall the rope.reference clause lists; related:
NVIDIA/Megatron-LM #7465 (precomputed cos/sin passed where angles were expected, B-PREC-13).

Caught by: rope.zero (main), rope.composition, rope.reference and the clauses that compare with
it (rope.cache-coverage, rope.gradient, impl.environment, impl.compile). rope.relative-shift,
rope.norm, rope.linearity and rope.positions pass.
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

    def cos_sin(positions, dtype):
        with torch.autocast(device_type=positions.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(positions.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.sin().to(dtype), emb.cos().to(dtype)

    def apply(x, positions):
        cos, sin = cos_sin(positions, x.dtype)  # BUG: cos_sin returns (sin, cos)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
