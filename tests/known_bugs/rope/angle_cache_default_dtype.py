"""Angle cache allocated in the default dtype, filled by a prefill, read back by later calls.

Bug: the module allocates its angle cache with ``torch.zeros(n, r // 2)``, which takes whatever
the default dtype is when the module is built. A call at positions 0..n-1 (a prefill) computes
fresh fp32 angles, returns a correct result and stores the angles in the cache; a later call whose
positions all lie in the filled part reads them back. Built under
``torch.set_default_dtype(torch.bfloat16)`` the cache is bf16: the prefill is right and every
decode step served from the cache rotates by angles with 8 significant bits (position 100 of the
fastest pair: 100 rad stored as 100, position 101 as 101, but 300.2 as 300; error up to 0.5 rad at
positions in the hundreds), for fp32 inputs as well.

Regime: the kernel built under a bf16 (or fp16) default dtype, a call after a prefill, at positions
inside the prefill. Its first call is always exact, so a check that calls a freshly built kernel
once never sees it.

Mirrors: lucidrains/rotary-embedding-torch 0.9.1 ``RotaryEmbedding.cached_freqs`` (a buffer
``torch.zeros(cache_max_seq_len, dim)`` filled by the offset-0 call and read back by later calls,
docs/findings/rotary-embedding-torch.md, deviation 2); the construction-time variant of the same
class is huggingface/transformers #28685 (B-PREC-05).

Caught by: impl.environment only (its default-dtype-bf16 variant, at the call after the prefill).
Built under the usual float32 default the cache holds the same fp32 angles a fresh call computes,
so the cached and the fresh path agree bit for bit and every other clause passes.
"""
import torch

from pe_spec import rope

CACHE_POSITIONS = 8192


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))
    cached = torch.zeros(min(cfg.max_position, CACHE_POSITIONS), r // 2)  # BUG: the default dtype
    state = {"filled": 0}

    def angles(positions):
        if positions.numel() and 0 <= int(positions.min()) and int(positions.max()) < state["filled"]:
            return cached.to(positions.device)[positions].float()
        with torch.autocast(device_type=positions.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(positions.device)[None, :]
        n = positions.numel()
        if n <= len(cached) and torch.equal(positions.cpu(), torch.arange(n)):
            cached[:n] = freqs.detach().cpu()
            state["filled"] = n
        return freqs

    def apply(x, positions):
        emb = torch.cat((angles(positions),) * 2, dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
