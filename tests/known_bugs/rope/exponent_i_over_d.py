"""Frequency exponent i/d instead of 2i/d.

Bug: ``arange(d // 2) / d`` as the exponent: the pair index i is divided by d instead of d/2
(the "fix" proposed in the i-versus-2i confusion). Every frequency but w_0 = 1 is wrong:
w_i = base**(-i/d) instead of base**(-2i/d), and the slowest pair turns at about base**(-1/2)
instead of base**(-1).

Regime: any position > 0 and rotary_dim >= 4 (with a single pair, w_0 = 1 is right); every dtype.

Mirrors: DongjunLee/transformer-tensorflow #6 and rasbt/LLMs-from-scratch #410 (B-SIN-03: the
proposed ``arange(d/2)/d`` exponent halves the log-frequency range).

Caught by: rope.reference (main) and the clauses that compare with it (rope.cache-coverage,
rope.gradient, impl.environment, impl.compile). A wrong but fixed frequency is still a rotation
group applied row by row, so rope.relative-shift and rope.positions pass. rope.composition fails
incidentally, on the examples that reach such angles (mostly float32): the larger angles round
more than the allowance for w_i grants.
"""
import torch

from pe_spec import rope


@rope.implementation(layout="interleaved")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(r // 2, dtype=torch.int64).float() / r))  # BUG: i/d

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            angles = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        c, s = angles.cos(), angles.sin()
        a = x[..., 0:r:2].float()
        b = x[..., 1:r:2].float()
        out = torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2).to(x.dtype)
        return torch.cat((out, x[..., r:]), dim=-1)

    return apply
