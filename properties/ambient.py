"""The ambient settings impl.environment runs a kernel under, and its two calls.

``autocast-bf16``: the call inside torch.autocast(bfloat16) on the input's device;
``default-dtype-bf16``: the kernel built (fresh) and called under torch.set_default_dtype(torch.bfloat16),
so float tensors it makes without a dtype, at build or at call time, are bf16 (the
``default-dtype-call`` regime; its first use in a fresh process is impl.environment#fresh-process).
"""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
import torch

# impl.environment calls a freshly built kernel twice, the second time at the drawn positions.
# The first call is a prefill at positions 0..max(drawn), so that a kernel caching what its first
# call computed serves every drawn position from that cache; when max(drawn) + 1 exceeds this,
# the first call is at the drawn positions themselves (a cache that grows with the positions seen
# then serves the second call; a longer prefill would only cost time).
ENVIRONMENT_PREFILL = 512


def environment_calls(positions: np.ndarray) -> tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]]:
    """(label, positions) of impl.environment's two calls: 0..max(positions) if that is at most
    ENVIRONMENT_PREFILL long (else the positions themselves), then the positions."""
    positions = np.asarray(positions, dtype=np.int64)
    n = int(np.max(positions)) + 1
    first = np.arange(n, dtype=np.int64) if n <= ENVIRONMENT_PREFILL else positions
    label = ("the first call (at the drawn positions)" if np.array_equal(first, positions)
             else f"the first call (a prefill at positions 0..{n - 1})")
    return (label, first), ("the second call (at the drawn positions)", positions)


DEFAULT_DTYPE_ENVIRONMENT = "default-dtype-bf16"


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def built_for(case, env: str) -> Callable:
    """A fresh build (no state left by other clauses); for default-dtype-bf16, built under it."""
    if env != DEFAULT_DTYPE_ENVIRONMENT:
        return case.build(fresh=True)
    with default_dtype(torch.bfloat16):
        return case.build(fresh=True)


def ambient(env: str, args: tuple):
    """The context a call runs in under env: an autocast region on the inputs' device, or the bf16
    default dtype."""
    if env == "autocast-bf16":
        return torch.autocast(device_type=args[0].device.type, dtype=torch.bfloat16)
    if env == DEFAULT_DTYPE_ENVIRONMENT:
        return default_dtype(torch.bfloat16)
    return contextlib.nullcontext()
