"""cos/sin cache gathered with the positions as they are: negative ones wrap to the end.

Bug: the kernel builds cos/sin tables for positions 0..max_position-1 (as the contract asks) and
gathers them with ``cos_cached[positions]``. Past the end that raises IndexError, as it should, but
tensor indexing counts negative indices from the end, Python-style, so position -1 silently gets
the rotation of max_position - 1, -k that of max_position - k.

Regime: negative positions from -1 down to -max_position (declared max_position 2**16 here);
every position in range is exact, and positions >= max_position or < -max_position raise.

Mirrors: P14 (table coverage: an out-of-range position must raise, never wrap or clamp);
vllm-project/tpu-inference #2756 (int16 positions overflowing to negative values beyond 32,767
tokens, cited with B-KER-06; there they corrupted the masks, a gather like this one would serve
them without an error); and
vllm-project/vllm #56446 (indexing past the cos/sin cache, B-SCL-16).

Caught by: rope.cache-coverage only (its negative positions).
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
        # BUG: a negative position indexes from the end of the cache instead of raising
        cos = cos_cached.to(x.device)[positions].to(x.dtype)
        sin = sin_cached.to(x.device)[positions].to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
