"""bfloat16 inputs rotated in float16.

Bug: the kernel's compute path exists for float32 and float16 only, and bfloat16 inputs are
routed through it as float16: ``x.to(torch.float16)`` is rotated and the result cast back. Both are
16-bit formats and for activations of ordinary size float16 is even the finer one, so the result
is right; but float16's range is far narrower (largest finite 65504, smallest subnormal 2**-24,
against about 3.4e38 and 9.2e-41 for bfloat16): larger values become inf (and inf - inf NaN in the
rotation), smaller ones flush to 0, and those between 2**-24 and 2**-14 keep only a few bits. The
pass-through channels make the same round trip (exact for values float16 holds).

Regime: bfloat16 inputs with |x| > 65504 or far below float16's normal range (the suite's huge
magnitudes, up to bf16's largest finite / 64, and its tiny ones, about 64 bf16 smallest normals,
which float16 flushes to 0); every position. Ordinary bfloat16 values and every other dtype are
exact.

Mirrors: no catalogued bug routes bf16 through fp16; the closest class is a half-precision
intermediate the values do not fit: NVIDIA/Megatron-LM #535 (positions cast to fp16, exact only
to 2048 and inf past 65504, B-PREC-06) and deepspeedai/Megatron-DeepSpeed #206 (angles cast to
fp16 before cos, B-PREC-08).

Caught by: rope.reference (main) and the clauses that re-check against the reference
(rope.cache-coverage, rope.gradient, impl.environment, impl.compile), on their bfloat16 examples
with huge or tiny inputs; there also the clauses that compare the output with x itself
(rope.norm, rope.zero, rope.pass-through: inf, NaN or 0 where x is finite and non-zero) and
rope.linearity (inf - inf). Equal inputs give equal infs: impl.determinism passes.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def rotate(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    def apply(x, positions):
        if x.dtype == torch.bfloat16:
            return rotate(x.to(torch.float16), positions).to(torch.bfloat16)  # BUG: fp16's range
        return rotate(x, positions)

    return apply
