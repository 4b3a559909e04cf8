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
# Smallest positive normal number: below it a kernel may flush results (and inputs) to zero
# (FTZ/DAZ, the default of many GPU and vectorised CPU paths), an absolute error below it.
SMALLEST_NORMAL: dict[str, float] = {
    "float64": 2.0**-1022,
    "float32": 2.0**-126,
    "bfloat16": 2.0**-126,
    "float16": 2.0**-14,
}
# Largest finite number: bf16 shares fp32's range, fp16's ends at 65504.
LARGEST: dict[str, float] = {
    "float64": float(np.finfo(np.float64).max),
    "float32": float(np.finfo(np.float32).max),
    "bfloat16": float(2**127 * (2 - 2**-7)),
    "float16": 65504.0,
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
