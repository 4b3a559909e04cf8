"""RoFormer's 1-based frequency formula with a 0-based index.

Bug: the paper writes theta_i = 10000**(-2(i-1)/d) for i = 1..d/2; the code uses it with
``i = torch.arange(d // 2)`` (0-based), so every frequency is multiplied by base**(2/d): the first
pair turns faster than one radian per token (w_0 = base**(2/d) > 1) and the slowest pair is
base**(2/d) too fast.

Regime: any position > 0, every rotary_dim (even a single pair: w_0 = base instead of 1),
every dtype.

Mirrors: bkitano/llama-from-scratch #8 (theta = 10000**(-2(i-1)/d) with a 0-based i, B-SIN-03).

Caught by: rope.reference (main) and the clauses that compare with it (rope.cache-coverage,
rope.gradient, impl.environment, impl.compile). rope.composition and rope.relative-shift fail
incidentally, on the examples that reach such angles: w_0 = base**(2/d) > 1 (base itself with a
single pair), and the faster angles round more than the allowance sized for the true w_i
grants. rope.positions passes.
"""
import torch

from pe_spec import rope


@rope.implementation(layout="interleaved")
def kernel(cfg: rope.Config):
    r = cfg.rotary_dim
    i = torch.arange(r // 2, dtype=torch.int64).double()
    theta = (cfg.base ** (-2 * (i - 1) / r)).float()  # BUG: the paper's i starts at 1, this one at 0

    def apply(x, positions):
        with torch.autocast(device_type=x.device.type, enabled=False):
            angles = torch.outer(positions.float(), theta.to(x.device))
        freqs_cis = torch.polar(torch.ones_like(angles), angles)
        xc = torch.view_as_complex(x[..., :r].float().reshape(*x.shape[:-1], r // 2, 2).contiguous())
        out = torch.view_as_real(xc * freqs_cis).flatten(-2).to(x.dtype)
        return torch.cat((out, x[..., r:]), dim=-1)

    return apply
