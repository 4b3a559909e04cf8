"""Custom autograd Function whose backward rotates by +p instead of -p.

Bug: a fused forward/backward pair where the backward reuses the forward kernel without the
conjugate flag: it returns R(p) g instead of R(p)^T g = R(-p) g. The forward is exact, so every
inference-only check passes; training silently gets gradients rotated by twice the angle.

Regime: any position > 0, every dtype, only when gradients flow.

Mirrors: the conjugate/backward path of Dao-AILab/flash-attention's ApplyRotaryEmb
(flash-attention #569 fixed a NameError and a misspelled ``conjugate`` there, B-KER-03); P16.

Caught by: rope.gradient only.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _rotate(x, cos, sin, r, conjugate=False):
    rot, rest = x[..., :r], x[..., r:]
    s = -sin if conjugate else sin
    return torch.cat((rot * cos + rotate_half(rot) * s, rest), dim=-1)


class ApplyRotary(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, cos, sin, r):
        ctx.save_for_backward(cos, sin)
        ctx.r = r
        return _rotate(x, cos, sin, r)

    @staticmethod
    def backward(ctx, grad):
        cos, sin = ctx.saved_tensors
        return _rotate(grad, cos, sin, ctx.r), None, None, None  # BUG: needs conjugate=True


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return ApplyRotary.apply(x, emb.cos().to(x.dtype), emb.sin().to(x.dtype), r)

    return apply
