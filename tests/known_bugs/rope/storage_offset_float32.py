"""Element offsets into the input's storage computed in float32.

Bug: like a kernel that forms each element's address as ``storage_offset + sum(i_k * stride_k)``
in a 32-bit float register (or any index arithmetic exact only to 24 bits), the kernel gathers x
from its storage at offsets computed in float32 and converted back to int64, then rotates the
gathered copy correctly. float32 holds every integer only up to 2**24: between 2**24 and 2**25 an
odd offset rounds to an even neighbour (ties to even), above 2**25 to a multiple of 4, so those
elements are read from the next or previous storage slot (a load past the end of x's extent is
masked to its last element).

Regime: inputs with an element at storage index > 2**24: a view deep into a large buffer (the
suite's large-storage regime puts x at the far end of a buffer of 2**25 elements), or a large x
itself; every dtype and position. Views of small buffers (offset 0, transposed, sliced, packed)
are exact.

Mirrors: no catalogued bug computes offsets in float32; it stands for the class of narrow index
arithmetic silently wrong past a size limit: microsoft/onnxruntime #20204 (seq_len > 64K in the
rotary CUDA kernel, B-KER-06) and vllm-project/tpu-inference #2756 (int16 positions overflowing
beyond 32,767 tokens, cited there), here with the 2**24 limit of a float32 index.

Caught by: rope.reference (main) and the clauses that re-check against the reference
(rope.cache-coverage, rope.gradient, impl.environment), on their large-storage examples; there
also the clauses that compare the output with x itself (rope.zero, rope.norm, rope.pass-through:
the gathered copy holds other elements, the tail channels too) and those that compare a call on
the large-storage x with one on a compact copy of it (rope.linearity, rope.positions,
impl.batch-independence). impl.compile draws no large-storage input.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def gather_from_storage(x):
    """x's elements read from its storage at offsets storage_offset + sum_k i_k * stride_k."""
    if x.numel() == 0:
        return x.clone()
    offsets = torch.tensor(float(x.storage_offset()), dtype=torch.float32, device=x.device)
    for k, (n, s) in enumerate(zip(x.shape, x.stride())):
        term = (torch.arange(n, dtype=torch.int64, device=x.device) * s).float()
        offsets = offsets + term.view((n,) + (1,) * (x.dim() - k - 1))  # BUG: float32 offsets
    extent = x.storage_offset() + 1 + sum((n - 1) * s for n, s in zip(x.shape, x.stride()))
    flat = x.as_strided((extent,), (1,), 0)  # the storage, from element 0
    return flat[offsets.long().clamp(max=extent - 1)]  # a load masked to the end of x's extent


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        x = gather_from_storage(x)
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
