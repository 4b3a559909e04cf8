"""Positions ignored: the rotation uses arange(seq_len).

Bug: the kernel takes the positions argument but builds the angles from
``torch.arange(x.shape[-2])``, as if every call were a prefill starting at 0. Left-padded
batches, decode steps at a KV-cache offset, packed sequences and any unsorted positions get the
wrong rotation. q and k called with the same sequence length still see a "relative" score, so
the bug hides from the shift test.

Regime: any positions that are not exactly 0, 1, ..., seq-1; every dtype.

Mirrors: huggingface/transformers #22161 (GPT-NeoX rotary used arange(seq_len) instead of
position_ids, so left padding broke it, B-POS-01); unslothai/unsloth #3795 (B-POS-02).

Caught by: rope.positions (main: a KV-cache suffix or a decode step alone is rotated as if it
started at 0, unlike the same rows of the full call), rope.reference, rope.zero,
rope.composition and the other clauses that compare with the reference (rope.cache-coverage,
rope.gradient, impl.environment, impl.compile). rope.relative-shift and rope.norm pass.
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
        t = torch.arange(x.shape[-2], device=x.device)  # BUG: should be `positions`
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = t.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
