"""cos/sin duplicated with repeat_interleave but applied with rotate_half.

Bug: the angle table is expanded for adjacent pairs, ``[t0, t0, t1, t1, ...]``
(``repeat_interleave(2)``), while the rotation pairs channel i with i + d/2 (``rotate_half``),
which needs ``[t0, t1, ..., t0, t1, ...]`` (``cat((freqs, freqs))``). The two members of a pair
get different angles, so the map is not a rotation at all.

Regime: any position > 0 with rotary_dim >= 4; every dtype.

Mirrors: raiyanyahya/how-to-train-your-gpt #6 (repeat_interleave with rotate_half) and, the
other way round, facebookresearch/vjepa2 #15 (B-LAY-09); NVIDIA/Megatron-LM #3900 (B-LAY-13).

Caught by: rope.relative-shift (main: the score depends on absolute positions), rope.norm,
rope.composition, rope.reference and the clauses comparing with it (rope.cache-coverage,
rope.gradient, impl.environment, impl.compile). Each row still follows its own position, so
rope.positions passes.
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
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = freqs.repeat_interleave(2, dim=-1)  # BUG: interleaved duplication for a half-split rotation
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
