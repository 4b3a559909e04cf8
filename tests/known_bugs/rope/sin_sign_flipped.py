"""sin sign flipped: rotates by R(-p) instead of R(p).

Bug: ``rotate_half`` returns ``cat((x2, -x1))`` instead of ``cat((-x2, x1))``, so every pair turns
clockwise. q.k still depends on n - m only (<R(-m)q, R(-n)k> = q^T R(m - n) k), the norms are
kept, position 0 is the identity and R(-a)R(-b) = R(-(a+b)): only the absolute reference can
tell it from the correct map. Weights trained with the counter-clockwise convention see the
transposed relative rotation.

Regime: any position with p * w_i not a multiple of pi; every dtype.

Mirrors: the sign-convention caveat in known-bugs.md section 9 (Fleetwood's blog writes the
clockwise matrix [[cos, sin], [-sin, cos]] next to the RoFormer counter-clockwise formula);
no single upstream issue in the catalogue.

Caught by: rope.reference (main) and the clauses that compare with it (rope.cache-coverage,
rope.gradient, impl.environment, impl.compile). rope.relative-shift, rope.norm, rope.zero,
rope.composition, rope.linearity and rope.positions MUST pass: the bug is invisible to them.
"""
import torch

from pe_spec import rope


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((x2, -x1), dim=-1)  # BUG: should be (-x2, x1)


@rope.implementation(layout="half")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    inv_freq = 1.0 / (cfg.base ** (torch.arange(0, r, 2, dtype=torch.int64).float() / r))

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            freqs = positions.float()[:, None] * inv_freq.to(x.device)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        rot, rest = x[..., :r], x[..., r:]
        return torch.cat((rot * cos + rotate_half(rot) * sin, rest), dim=-1)

    return apply
