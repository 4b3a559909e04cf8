"""The table returned in float32 whatever dtype was asked for.

Bug: the table is computed in float32 (correctly) and registered as a buffer, but the lookup
returns it as is: no ``.to(dtype)``. A bf16/fp16 model adding it to its embeddings gets a
float32 sum (type promotion), twice the activation memory, or a dtype mismatch in a fused path.

Regime: bfloat16 and float16 requests; float32 is unaffected. Every position.

Mirrors: the other side of huggingface/transformers #25681 (B-PREC-02): the fix keeps the
table in float32 so that ``model.half()`` cannot down-cast it, and must then cast the result
to the requested dtype on the way out; forgetting that cast is this bug (the "outputs silently
upcast to float32" pitfall impl.dtype-shape guards against).

Caught by: impl.dtype-shape only; the values are more accurate than the tolerance model requires,
so sinusoidal.reference and every other clause pass.
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.int64).float() * (-math.log(cfg.base) / d))

    def table(positions: torch.Tensor) -> torch.Tensor:
        ang = positions.to(torch.float32)[:, None] * div_term[None, :]
        out = torch.stack((ang.sin(), ang.cos()), dim=-1).flatten(-2)
        return out.to(cfg.device)  # BUG: no .to(cfg.dtype)

    return table
