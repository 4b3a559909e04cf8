"""Frequency table built with a floating arange in the default dtype.

Bug: ``torch.arange(0, r, 2, dtype=torch.get_default_dtype())`` (equivalently a float-argument
``torch.arange(0., r, 2.)``) gives a tensor in whatever the default dtype is when the module is
built. Built under ``torch.set_default_dtype(torch.bfloat16)`` (or DeepSpeed ``zero.Init``, which
patches float aranges to the model dtype) the exponent and the power are computed in bf16 and
inv_freq keeps only 8 significant bits; the forward's fp32 angles cannot recover them.

Regime: the kernel built under a bf16 (or fp16) default dtype, positions above about 2**8;
built under the usual float32 default it is exact.

Mirrors: huggingface/transformers #28685 (float-dtype arange recast by DeepSpeed zero.Init;
hence ``arange(..., dtype=torch.int64).float()``, B-PREC-05) and deepspeedai/DeepSpeed #4932.

Caught by: impl.environment only (its default-dtype-bf16 variant).
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    exponents = torch.arange(0, r, 2, dtype=torch.get_default_dtype()) / r  # BUG: bf16 under a bf16 default
    inv_freq = 1.0 / (cfg.base ** exponents)

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.float().to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
