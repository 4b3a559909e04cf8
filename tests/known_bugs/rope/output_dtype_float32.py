"""Output upcast to float32 for bfloat16/float16 inputs.

Bug: the kernel computes in float32 (correctly) but forgets ``.to(x.dtype)`` on the way out, so
a bf16 model gets a float32 q/k: twice the activation memory, and attention silently runs in
a different precision (or fails on a fused path that insists on matching dtypes).

Regime: bfloat16, float16 and float64 inputs (float32 inputs are unaffected), every position.

Mirrors: the "outputs silently upcast to float32" pitfall that impl.dtype-shape guards against;
related: NVIDIA/TransformerEngine #455 (RoPE output not in the layout the fused attention
expects, B-KER-07).

Caught by: impl.dtype-shape (main); the values themselves are within what the tolerance model
allows. A float64 input comes back rounded to float32, its pass-through channels too, which must
be exact: rope.pass-through (float64), and so does the gradient through them (autograd casts the
upstream gradient to float32 and back): rope.gradient (float64).
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
        emb = torch.cat((freqs, freqs), dim=-1)
        xf = x.float()
        rot, rest = xf[..., :r], xf[..., r:]
        return torch.cat((rot * emb.cos() + rotate_half(rot) * emb.sin(), rest), dim=-1)  # BUG: no .to(x.dtype)

    return apply
