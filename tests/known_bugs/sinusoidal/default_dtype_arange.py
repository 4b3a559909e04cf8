"""Frequencies from an int64 arange times a Python float: built in the default dtype.

Bug: the Annotated Transformer's ``div_term = torch.exp(torch.arange(0, d_model, 2) *
-(math.log(10000.0) / d_model))``: an int64 tensor times a Python float has the *default* float
dtype. Built under ``torch.set_default_dtype(torch.bfloat16)`` (or DeepSpeed ``zero.Init``),
div_term is bfloat16 and keeps 8 significant bits, and ``position * div_term`` (int64 times
bf16) is bf16 too: the angles are off by up to p * 2**-9 radians. Under the usual float32
default the table is exact.

Regime: the kernel built under a bf16 (or fp16) default dtype, positions above a few dozen;
built under float32 it is correct.

Mirrors: huggingface/transformers #28685 (float arange recast by DeepSpeed zero.Init; hence
``arange(..., dtype=torch.int64).float()``, B-PREC-05) and deepspeedai/DeepSpeed #4932.

Caught by: impl.environment only (built under a bfloat16 default dtype); every other clause
builds it under float32 and passes.
"""
import math

import torch

from pe_spec import sinusoidal


@sinusoidal.implementation(convention="vaswani")
def kernel(cfg: sinusoidal.Config):
    d = cfg.dim
    # BUG: int64 arange * Python float has the default dtype (bf16 under zero.Init / set_default_dtype)
    div_term = torch.exp(torch.arange(0, d, 2) * (-math.log(cfg.base) / d))

    def table(positions: torch.Tensor) -> torch.Tensor:
        position = positions[:, None]
        pe = torch.zeros(len(positions), d, dtype=div_term.dtype)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        return pe.to(getattr(torch, cfg.dtype)).to(cfg.device)

    return table
