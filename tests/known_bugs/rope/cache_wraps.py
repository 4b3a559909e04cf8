"""cos/sin cache indexed modulo its length.

Bug: the kernel builds cos/sin tables for positions 0..max_position-1 (as the contract asks)
and indexes them with ``positions % max_position`` to "stay in bounds", so position
max_position + k silently gets the rotation of position k instead of raising.

Regime: only positions >= max_position (declared 2**16 here); everything the kernel promises
to serve is exact, so every other clause passes.

Mirrors: P14 (table coverage: an out-of-range position must raise, never wrap or clamp);
vllm-project/vllm #56446 (requests indexing past the end of the cos/sin cache, B-SCL-16) and
microsoft/onnxruntime #20204 (seq_len > 64K in the rotary CUDA kernel, B-KER-06).

Caught by: rope.cache-coverage only.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half", max_position=2**16)
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))
    t = torch.arange(cfg.max_position, dtype=torch.int64).float()
    freqs = t[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos_cached, sin_cached = emb.cos(), emb.sin()

    def apply(x, positions):
        idx = positions % cfg.max_position  # BUG: wraps silently instead of raising past the cache
        cos = cos_cached.to(x.device)[idx].to(x.dtype)
        sin = sin_cached.to(x.device)[idx].to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
