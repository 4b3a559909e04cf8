"""The last sequence tile shifted back to be full, its positions left where they were.

Bug: the kernel processes the sequence in tiles of BLOCK = 1024 rows. To avoid masking, as many
Triton kernels do, a partial last tile is shifted back to start at seq - BLOCK, so that it is full
and overlaps the tile before it; its rows are loaded and stored at the shifted offsets, but the
positions are loaded at the unshifted ones: row seq - BLOCK + j gets
positions[min(last_start + j, seq - 1)], last_start = (seq // BLOCK) * BLOCK (the clamp standing
for the masked load past the end). The shifted tile runs last, so its stores win in the overlap:
every row of it but the final one is turned by another row's position (BLOCK - seq % BLOCK rows
later, or the last row's), the overlap rows that the previous tile had got right included.

Regime: seq > 1024 and not a multiple of 1024 (1500, 3000, 4097 tokens), rows seq-1024..seq-2, with
distinct positions; every dtype. Sequences of at most 1024 rows and multiples of 1024 are exact.

Mirrors: no catalogued bug is exactly this; the closest class is a kernel's row-to-position map
that is wrong for some rows: linkedin/Liger-Kernel #464 (the kernel read only the first row of
cos/sin, B-POS-03) and NVIDIA/Megatron-LM #5243 (a packed per-token frequency table indexed as if
every sequence started at 0, B-POS-05).

Caught by: rope.reference (main) and the clauses that re-check against the reference
(rope.gradient, impl.environment, impl.compile), on their long-sequence examples
(rope.cache-coverage calls it on six positions, one tile, and passes); rope.positions too where a call on a subset of the rows is tiled differently from the
full call. Each row is a true rotation by a position shifted along with the others
(position[src(row)] for a fixed row map), so rope.relative-shift, rope.composition, rope.norm,
rope.linearity and rope.zero pass.
"""
import torch

from pe_spec import rope

BLOCK = 1024


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def row_positions(positions):
    """The position each row is rotated by, tile by tile, the last tile running last."""
    seq = positions.shape[-1]
    src = torch.arange(seq, dtype=torch.int64, device=positions.device)
    if seq > BLOCK and seq % BLOCK:
        last_start = (seq // BLOCK) * BLOCK
        j = torch.arange(BLOCK, dtype=torch.int64, device=positions.device)
        src[seq - BLOCK:] = (last_start + j).clamp(max=seq - 1)  # BUG: the unshifted tile's positions
    return positions[..., src]


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = row_positions(positions).float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
