"""One channel tile of 256: rotary channels from 256 on come back unrotated.

Bug: in the design of a Triton/CUDA RoPE kernel that gives each program one tile of output
channels (a block of 256 threads, one per channel, computing out[c] from x[c], its partner
x[c +- r/2] and cos/sin[c]), the tile width is capped at 256 and there is no loop over the
remaining channels: output channels 256..rotary_dim-1 keep the copy of x the output buffer was
initialised with. In the half layout those are the second members (i + r/2) of the pairs
i >= 256 - r/2: such a pair keeps its first member rotated (x_i cos - x_{i+r/2} sin) and its
second unrotated, which is not a rotation at all. flash-attention's Triton rotary kernel picks
its channel tile the same way (BLOCK_K = 32, 64, 128 or 256 from rotary_dim) and refuses larger
heads with ``assert headdim <= 256``; this kernel is that design without the guard.

Regime: rotary_dim > 256 only (head dims 264..512), every dtype and position > 0; channels
below 256 and the pass-through tail are exact, and every rotary_dim <= 256 is exact.

Mirrors: no catalogued bug is exactly this; the closest classes are a hard-coded channel width in
a Triton RoPE kernel (linkedin/Liger-Kernel #1451: ``hd//2`` offsets assumed, B-KER-08) and a
launch dimension with a hard limit the workload outgrew (microsoft/onnxruntime #20204, seq_len
> 64K, B-KER-06). The guard it lacks is Dao-AILab/flash-attention's
``flash_attn/ops/triton/rotary.py`` (``assert headdim <= 256``).

Caught by: rope.reference (main) and the clauses that re-check against the reference
(rope.cache-coverage, rope.gradient, impl.environment), on their wide-heads examples
(rotary_dim > 256; impl.compile draws one configuration, head_dim 96, so it passes); there also
rope.norm (a half-rotated pair does not keep its norm), rope.relative-shift and rope.composition
(a pair turned on one member only is no rotation, so q.k depends on absolute positions and two
calls do not compose). The map is linear and the identity at position 0: rope.linearity and
rope.zero pass.
"""
import torch

from pe_spec import rope

CHANNEL_TILE = 256


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))
    tile = min(r, CHANNEL_TILE)  # BUG: one tile of at most 256 output channels, no loop over the rest

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        rotated = rot * cos + rotate_half(rot) * sin
        return torch.cat((rotated[..., :tile], rot[..., tile:], rest), dim=-1)

    return apply
