"""[sin | cos] halves declared as the paper's interleaved table.

Bug: the table has the paper's frequencies base**(-2i/d) but lays them out as
``torch.cat([sin, cos], dim=-1)`` (sin of pair i at column i, cos at column d/2 + i), as
allennlp, fairseq and many libraries do, and declares ``convention="vaswani"`` (sin at 2i, cos at
2i + 1). Only the channel order differs, but a consumer of the paper's layout reads column 2i + 1
as the cosine partner of column 2i, and gets the sine of another frequency.

Regime: every dim >= 4 (for d = 2 both layouts are (sin, cos)), every position.

Mirrors: allenai/allennlp #2993 (B-SIN-01: "add_positional_features seems different from
Attention is all you need"; also kimiyoung/transformer-xl #119, fairseq #4648).

Caught by: sinusoidal.reference (main); sinusoidal.norm and sinusoidal.linear-offset (each
declared pair mixes two frequencies, and sin or cos with sin or cos); impl.environment and impl.compile. The
set of values of each row is right, only permuted: sinusoidal.offset-dot (a dot product does not
see a common permutation of the channels), sinusoidal.bounded and sinusoidal.uniqueness pass.
"""
import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")  # BUG: the layout below is "concat"
def kernel(cfg: sinusoidal.Config):
    freqs = 1.0 / cfg.base ** (torch.arange(0, cfg.dim, 2, dtype=torch.int64).float() / cfg.dim)

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = positions.to(torch.float32)[:, None] * freqs[None, :]
        return torch.cat((ang.sin(), ang.cos()), dim=-1).to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
