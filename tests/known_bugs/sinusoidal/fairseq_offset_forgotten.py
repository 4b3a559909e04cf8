"""fairseq's table read at the token index: the padding offset forgotten.

Bug: a port of fairseq's ``SinusoidalPositionalEmbedding`` builds the right table (t2t
frequencies, [sin | cos], odd dim zero-padded) but indexes it with ``arange(seq_len)`` instead of
``utils.make_positions`` (which starts at padding_idx + 1 = 2). The first token gets row 0
(all sines 0, cosines 1) instead of row 2, and every token is encoded two positions early:
weights trained with fairseq see shifted positions.

Regime: every position, every dim >= 4 (fairseq's half_dim - 1 denominator), every dtype.

Mirrors: facebookresearch/fairseq #1177 ("Position numbers begin at padding_idx+1", B-SIN-04);
huggingface/transformers #5285 and #20761 (OPT's offset of 2 forgotten or doubled in ports).

Caught by: sinusoidal.reference (main) and impl.environment and impl.compile. A constant shift keeps every
relative property: sinusoidal.linear-offset, sinusoidal.offset-dot, sinusoidal.norm,
sinusoidal.bounded and sinusoidal.uniqueness pass.
"""
import math

import torch

from pe_spec import sinusoidal


def get_embedding(positions, embedding_dim):
    half_dim = embedding_dim // 2
    emb = math.log(10000) / (half_dim - 1)
    emb = torch.exp(torch.arange(half_dim, dtype=torch.int64).float() * -emb)
    emb = positions.to(torch.float32)[:, None] * emb[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
    if embedding_dim % 2 == 1:
        emb = torch.cat([emb, torch.zeros(emb.shape[0], 1)], dim=1)
    return emb


@sinusoidal.implementation(convention="fairseq", bases=(10000.0,))
def kernel(cfg: sinusoidal.Config):
    if cfg.dim < 4:
        raise sinusoidal.Unsupported("fairseq's (half_dim - 1) denominator needs dim >= 4")

    def table(positions: torch.Tensor) -> torch.Tensor:
        # BUG: fairseq's make_positions starts at padding_idx + 1; the token index is used as is
        return get_embedding(positions, cfg.dim).to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
