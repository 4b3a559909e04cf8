"""fairseq's padding offset added to the caller's positions in place.

Bug: a fairseq port gets the offset right, but applies it with ``positions += padding_idx + 1``
(an in-place add on the caller's tensor) to save an allocation. The returned rows are right;
the caller's position ids are now shifted by 2, and a second use of them (the next layer, a
cache update, a retry) is off by 2 more each time.

Regime: every call; every dim >= 4 and dtype.

Mirrors: facebookresearch/fairseq #1177 (the padding_idx + 1 origin, B-SIN-04) combined with the
in-place write pitfall impl.no-mutation guards against (unslothai/unsloth #837, B-KER-01).

Caught by: impl.no-mutation only. The rows are the fairseq table's for the positions passed in,
so sinusoidal.reference, impl.environment and every other clause must pass (the suite hands
the kernel its own copy of the positions, so the reference still sees the positions drawn).
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="fairseq")
def kernel(cfg: sinusoidal.Config):
    if cfg.dim < 4:
        raise sinusoidal.Unsupported("fairseq's (half_dim - 1) denominator needs dim >= 4")
    half_dim = cfg.dim // 2
    freqs = torch.exp(torch.arange(half_dim, dtype=torch.int64).float() * -(math.log(cfg.base) / (half_dim - 1)))
    padding_idx = 1

    def table(positions: torch.Tensor) -> torch.Tensor:
        positions += padding_idx + 1  # BUG: in place, on the caller's tensor
        emb = positions.to(torch.float32)[:, None] * freqs[None, :]
        emb = torch.nn.functional.pad(torch.cat((emb.sin(), emb.cos()), dim=-1), (0, cfg.dim % 2))
        return emb.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
