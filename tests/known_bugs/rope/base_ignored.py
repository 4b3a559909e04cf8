"""The configured base (rope_theta) is ignored: the kernel always uses 10000.

Bug: the frequency builder has ``base=10000.0`` as a default and the caller never passes
``cfg.base`` on, so a model configured with rope_theta = 500000 (Llama 3) or 1e6 (Qwen, Mistral
long-context) gets the frequencies of the original Transformer.

Regime: any base other than 10000, rotary_dim >= 4, positions > 0; every dtype. With base
10000 the kernel is exact.

Mirrors: NVIDIA/TensorRT-LLM #785 ('rotary_embedding_base' not passed to gpt_attention when
converting Qwen 72B) and lyogavin/airllm #368 (rope_theta not copied, fell back to 10000,
B-SCL-22).

Caught by: rope.reference (main) and the clauses that compare with it (rope.cache-coverage,
rope.gradient, impl.environment, and impl.compile, whose configuration has base 1e7). The
frequencies are the same for every row, so rope.positions and rope.relative-shift pass.
rope.composition fails incidentally, in float32 on the examples that reach it (base 1e6 or 1e7,
positions of some thousands): the faster base-10000 angles round more than the allowance for
the configured base grants.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def inverse_frequencies(rotary_dim, base=10000.0):
    return 1.0 / (base ** (torch.arange(0, rotary_dim, 2, dtype=torch.int64).float() / rotary_dim))


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = inverse_frequencies(r)  # BUG: cfg.base is not passed on

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
