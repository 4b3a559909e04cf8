"""Angles computed with a matmul that an ambient autocast lowers to bfloat16.

Bug: the Hugging Face Llama forward of early 2024: ``freqs = inv_freq[:, None].float() @
positions[None, :].float()``, with ``.float()`` everywhere but no ``torch.autocast(enabled=False)``
around it. Under mixed-precision training (``torch.autocast(dtype=torch.bfloat16)``) the matmul
runs in bf16, so every angle p * w_i is rounded to 8 significant bits: positions above 256
merge, and the phase error grows with p.

Regime: float32 inputs under an ambient bf16 autocast, positions above about 2**8. Without
autocast the kernel is exact, so only the environment check sees it.

Mirrors: huggingface/transformers #29285 (RoPE loses precision under autocast; the fix disables
autocast in the rotary forward, B-PREC-04) and huggingface/diffusers #13922 (image tokens at
offset 65536 collapsed under autocast, B-PREC-10).

Caught by: impl.environment only.
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
        inv_freq_expanded = inv_freq.to(x.device)[:, None].float()
        positions_expanded = positions[None, :].float()
        freqs = (inv_freq_expanded @ positions_expanded).transpose(0, 1)  # BUG: autocast lowers this matmul
        emb = torch.cat((freqs, freqs), dim=-1).float()
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
