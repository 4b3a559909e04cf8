"""Meta-style complex rotation through a "free" complex view that assumes a unit last stride.

Bug: the kernel rotates the interleaved pairs (2i, 2i+1) as complex numbers, as Meta's llama does
(``view_as_complex(x.float().reshape(..., -1, 2)) * freqs_cis``), but builds the complex view
without the reshape's copy: ``x.float()`` is x itself for float32 inputs, and the pairs are
addressed with ``as_strided`` at element strides (2, 1) within each row, as if the last dimension
had stride 1. For a float32 x whose last dimension has another stride (x[..., ::2] of a wider
tensor, a transposed [head_dim, seq] buffer) it reads the wrong elements: those of the
underlying rows, consecutively. bfloat16, float16 and float64 inputs are upcast by ``.float()``
into a fresh contiguous buffer first, and are right.

Regime: float32 inputs whose last dimension has stride != 1; every position (also position 0:
it returns elements of the buffer that are not x's). float32 inputs with unit last stride (any
row strides, packed qkv, transposed heads) and every other dtype are exact.

Mirrors: no catalogued bug is exactly this; the closest class is a stride assumption checked on
the wrong dimension (Dao-AILab/flash-attention #1562: ``maybe_contiguous`` checked only the last
stride, B-KER-05), here the converse: the last stride is assumed and never checked, which
``view_as_complex`` itself would have refused (it requires stride 1 on the last dimension).
Meta's complex formulation is the one of huggingface/transformers #31859 and #39687 (B-LAY-01,
B-LAY-02).

Caught by: impl.stride-invariance only (its float32 examples with a non-unit last stride: the
suite's own inputs have unit last strides everywhere else).
"""
import torch

from pe_spec import rope


@rope.implementation(layout="interleaved")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        freqs_cis = torch.polar(torch.ones_like(freqs), freqs)
        xr = x[..., :r]
        if xr.dtype != torch.float32:
            xr = xr.float().contiguous()  # the upcast copy: unit strides
        # BUG: float32 skips the copy, and its pairs are addressed as if it had been made
        pairs = xr.as_strided(xr.shape[:-1] + (r // 2, 2), xr.stride()[:-1] + (2, 1), xr.storage_offset())
        out = torch.view_as_real(torch.view_as_complex(pairs.contiguous()) * freqs_cis).flatten(-2)
        return torch.cat((out.to(x.dtype), x[..., r:]), dim=-1)

    return apply
