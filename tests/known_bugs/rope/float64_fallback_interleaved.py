"""A float64 fallback path that pairs channels interleaved in a half-layout kernel.

Bug: like fused kernels that serve float32/bf16/fp16 themselves and send float64 to a separate
"reference" path, the kernel rotates half-split pairs (i, i + r/2) (``rotate_half``, its declared
layout) for every dtype but float64, and routes float64 to a fallback, computed in float64 and
otherwise exact, that was written with the other convention: it rotates the pairs (2i, 2i+1)
(``x[..., 0::2]``, ``x[..., 1::2]``). The fallback is still a rotation, of the wrong pairs.

Regime: float64 inputs only, at positions > 0 with rotary_dim >= 4 (for a single pair the two
layouts coincide). float32, bfloat16 and float16 are exact; float64 is declared so that the suite
draws it.

Mirrors: NVIDIA/Megatron-LM #7465 (the unfused fallback of apply_rotary_pos_emb_with_cos_sin used
a pair layout matching neither convention, and ran only where flash_attn was missing, B-PREC-13:
"fused path versus fallback path");
the layout mismatch itself is TransformerLensOrg/TransformerLens #365 and vllm-project/vllm #49290
(a kernel path hard-coding the other rotation, B-LAY-12, B-LAY-06). No catalogued bug routes float64
specifically; the dtype dispatch is this module's own setting of that class.

Caught by: rope.reference (main) and the clauses that re-check against the reference
(rope.cache-coverage, rope.gradient, impl.environment, impl.compile), on their float64 examples
only; rope.norm on float64 too (the declared pairs are mixed), as for
layout_declared_interleaved_computes_half, whose incidental rope.composition and rope.linearity
failures may show here on float64. A rotation of its own pairs, row by row: rope.positions,
rope.relative-shift and rope.zero pass; every other dtype passes every clause.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half", dtypes=("float32", "bfloat16", "float16", "float64"))
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))
    inv_freq64 = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).double() / r))

    def fallback(x, positions):
        """The float64 path: float64 frequencies, angles and cos/sin."""
        freqs = positions.double()[:, None] * inv_freq64.to(x.device)[None, :]
        cos, sin = freqs.cos(), freqs.sin()
        rot, rest = x[..., :r], x[..., r:]
        x1, x2 = rot[..., 0::2], rot[..., 1::2]  # BUG: interleaved pairs; the kernel's layout is half
        out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
        return torch.cat((out, rest), dim=-1)

    def apply(x, positions):
        if x.dtype == torch.float64:
            return fallback(x, positions)
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
