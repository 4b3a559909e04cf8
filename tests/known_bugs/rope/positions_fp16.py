"""Positions cast to float16 before the angle is formed.

Bug: ``seq = positions.half()`` (the model runs in fp16, so the position vector is made "like"
the activations) before the outer product with fp32 inverse frequencies. fp16 represents
integers exactly only up to 2048: above it neighbouring positions collapse onto the same
value (spacing 2, 4, ... 32 below 65504), and from 65520 on they round to inf, so the angles
and the output are NaN.

Regime: positions > 2048 for every input dtype (the cast does not depend on x.dtype);
NaN output from 65520 on.

Mirrors: NVIDIA/Megatron-LM #535 (``seq.type_as(inv_freq)`` casts positions to fp16, tail
positions collapse) (B-PREC-06); openvinotoolkit/openvino #25883 is the same fix on GPU.

Caught by: rope.reference (main), rope.relative-shift and rope.composition (rounding a position
is not shift-invariant or additive), rope.norm (NaN pairs from positions >= 65520), and the
clauses that compare with the reference (rope.cache-coverage, rope.gradient, impl.environment,
impl.compile, whose configuration serves 2**25 positions). Each row's rotation depends on its own
position only, so rope.positions holds; the clauses that compare two outputs of the kernel
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
        seq = positions.half()  # BUG: integers above 2048 are not representable in fp16
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = torch.outer(seq.float(), inv_freq.to(x.device))
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
