"""Reads x as if it were contiguous whenever its last stride is 1.

Bug: like a fused kernel that addresses element (row, col) at ``data_ptr + row * head_dim + col``,
the kernel only calls ``.contiguous()`` when ``x.stride(-1) != 1`` and then walks the storage
with contiguous row strides (``as_strided``). A k slice of a packed qkv projection, a
[seq, heads] -> [heads, seq] transposed view or every other row of a buffer all have last
stride 1 and are read from the wrong rows.

Regime: non-contiguous inputs with unit last stride (packed qkv, transposed, strided rows);
every dtype and position. Contiguous inputs are exact.

Mirrors: Dao-AILab/flash-attention #1562 (``maybe_contiguous`` checked only the last-dim stride,
B-KER-05); unslothai/unsloth #5001 (the clone guard only fires for non-contiguous inputs).

Caught by: impl.stride-invariance only.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def contiguous_strides(shape):
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= n
    return tuple(reversed(strides))


def maybe_contiguous(x):
    return x.contiguous() if x.stride(-1) != 1 else x  # BUG: the row strides are not checked


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        x = maybe_contiguous(x)
        # the "kernel": row-major addressing from the first element, as a CUDA/Triton kernel does
        rows = torch.as_strided(x, x.shape, contiguous_strides(x.shape), x.storage_offset())
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = rows[..., :r], rows[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply

