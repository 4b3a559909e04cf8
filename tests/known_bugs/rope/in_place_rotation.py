"""Rotates the input in place and returns it.

Bug: to save memory the kernel writes the rotated values into x's own storage and returns x.
The returned values are right, but the caller's q/k are overwritten: a second use of the
"unrotated" tensor (a reference comparison, a re-rotation, a recomputation under gradient
checkpointing) sees already-rotated data.

Regime: every call with a nonzero position; every dtype.

Mirrors: unslothai/unsloth #837 ("we overwrite Q and K to conserve VRAM"; a comparison failed
because the second call saw already-rotated tensors) and unslothai/unsloth #5001 (B-KER-01);
lucidrains/rotary-embedding-torch #31 (B-KER-02).

Caught by: impl.no-mutation (main), impl.no-aliasing (the returned tensor is x itself) and
rope.gradient (the in-place write on a leaf that requires grad raises), and
impl.stride-invariance (the write into an expanded, stride-0 input raises: its rows share
memory). The returned values are right, and the suite puts an overwritten input back before
judging them, so every other clause passes (rope.reference, rope.positions,
rope.cache-coverage, rope.relative-shift, impl.determinism, impl.compile, ...).
"""
import torch

from pe_spec import rope


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r, h = cfg.rotary_dim, cfg.rotary_dim // 2
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        cos, sin = freqs.cos().to(x.dtype), freqs.sin().to(x.dtype)
        x1, x2 = x[..., :h], x[..., h:r]
        out1 = x1 * cos - x2 * sin
        out2 = x2 * cos + x1 * sin
        x1.copy_(out1)  # BUG: writes into the caller's tensor
        x2.copy_(out2)
        return x

    return apply
