"""Floating-point formats the suite knows, by name, with their unit roundoff (one place)."""
from __future__ import annotations

import numpy as np

# Unit roundoff u = 2**-p for a p-bit significand (round-to-nearest): one correctly rounded
# operation has relative error at most u.
UNIT_ROUNDOFF: dict[str, float] = {
    "float64": 2.0**-53,
    "float32": 2.0**-24,
    "bfloat16": 2.0**-8,
    "float16": 2.0**-11,
}
# Smallest positive subnormal: the absolute error floor of one rounding near zero.
SMALLEST_SUBNORMAL: dict[str, float] = {
    "float64": 2.0**-1074,
    "float32": 2.0**-149,
    "bfloat16": 2.0**-133,
    "float16": 2.0**-24,
}
# Largest position p for which every integer 0..p is exactly representable.
EXACT_INTEGER_LIMIT: dict[str, int] = {"float64": 2**53, "float32": 2**24, "bfloat16": 2**8, "float16": 2**11}
FLOAT_DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16", "float64")


def check_name(name: str) -> str:
    if name not in UNIT_ROUNDOFF:
        raise ValueError(f"unknown dtype {name!r}; pe-spec knows {', '.join(UNIT_ROUNDOFF)}")
    return name


def torch_dtype(name: str):
    import torch

    return getattr(torch, check_name(name))


def name_of(dtype) -> str:
    """'float32' for torch.float32, np.float32, or the string itself."""
    text = str(dtype).replace("torch.", "")
    if text in UNIT_ROUNDOFF:
        return text
    return np.dtype(dtype).name
