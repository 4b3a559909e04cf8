"""Angles cast to the activation dtype before cos/sin.

Bug: the angle table is computed in fp32 and then cast to the model dtype before the trig
functions, ``emb.to(x.dtype).cos()``, instead of ``emb.cos().to(x.dtype)``. A bf16 angle of
magnitude A is off by up to A * 2**-9 radians (fp16: A * 2**-11), i.e. a wrong rotation as soon
as the angle is large, and fp16 angles overflow to inf above 65504.

Regime: bfloat16 and float16 inputs (a float32 kernel is exact), positions above a few hundred.

Mirrors: deepspeedai/Megatron-DeepSpeed #206 (``A.half().cos()`` differs sharply from
``A.cos().half()`` at position 510, B-PREC-08); vllm-project/vllm #1004 (B-PREC-07).

Caught by: rope.reference (main), rope.relative-shift and rope.composition (rounding an angle
is not additive), rope.norm (float16: angles above 65504 overflow to inf, so cos/sin and the
output are NaN), and the clauses that compare with the reference (rope.cache-coverage,
rope.gradient, impl.environment). Float32 passes every clause. impl.compile passes: the compiled
kernel is right, because inductor drops the intermediate rounding of ``.to(x.dtype)`` before a
float op (torch._inductor.config.emulate_precision_casts is False by default), so torch.compile
silently repairs this bug: a kernel checked only compiled can still be wrong eagerly. The rounding is
row-wise, so rope.positions holds; the clauses that compare two outputs of the kernel
(impl.determinism, impl.batch-independence, impl.stride-invariance, rope.linearity) see equal
NaNs at the same places, which is agreement, and pass.
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

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1).to(x.dtype)  # BUG: round the angle, then take cos/sin
        cos, sin = emb.cos(), emb.sin()
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
