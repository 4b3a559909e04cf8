"""Inverse frequencies held in bfloat16.

Bug: ``inv_freq`` is a buffer that a whole-model ``.to(torch.bfloat16)`` casts along with the
weights; the forward then upcasts it with ``.float()``, which cannot restore the lost bits.
Each w_i carries a relative error up to 2**-9, so the angle p * w_i is off by up to p * w_i / 512
radians: harmless near position 0, a wrong rotation from a few hundred tokens on.

Regime: every dtype (the angles are fp32, the frequencies are not); visible once p * w_i * 2**-9
exceeds the fp32 allowance, i.e. from positions of about 2**8 upwards.

Mirrors: huggingface/transformers #25681 (cached cos/sin wrong after model.half()/to(bfloat16))
and sgl-project/sglang-jax #1472 (inv_freq quantised to bf16 before the einsum); the same root
cause as EleutherAI/gpt-neox #1003 (B-PREC-01, B-PREC-02, B-PREC-09).

Caught by: rope.reference (main) and every clause that compares with the reference
(rope.cache-coverage, rope.gradient, impl.environment, impl.compile). The frequencies are wrong
but consistent, and the same for every row, so rope.relative-shift, rope.composition and
rope.positions (rows of a partial call against the full call) still hold.
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
    inv_freq = inv_freq.to(torch.bfloat16)  # BUG: the buffer follows model.to(torch.bfloat16)

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.float().to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
