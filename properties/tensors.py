"""Tensor helpers every property check uses: exact comparison, float64 views, storage overlap."""
from __future__ import annotations

import numpy as np
import torch


def to_f64(v) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        return v.detach().to("cpu", torch.float64).numpy()
    return np.asarray(v, dtype=np.float64)


def bitwise_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal bit patterns (so NaN == NaN): what 'the same output' means for determinism."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not a.is_floating_point():
        return torch.equal(a, b)
    as_int = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
    return torch.equal(a.contiguous().view(as_int), b.contiguous().view(as_int))


def difference(a, b) -> np.ndarray:
    """a - b in float64 for comparing two outputs of the kernel: where both hold the same NaN or
    infinity the difference is 0 (a NaN output is the reference clause's failure, not a disagreement)."""
    a, b = to_f64(a), to_f64(b)
    same_nonfinite = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    with np.errstate(invalid="ignore"):
        return np.where(same_nonfinite, 0.0, a - b)


def unreadable_tensor(y: torch.Tensor) -> str | None:
    """What is wrong with an output whose values cannot be read at all (no clause can judge it)."""
    if y.device.type == "meta":
        return "a tensor on the meta device (shapes only, no values)"
    if y.layout != torch.strided:
        return f"a {y.layout} tensor, not a dense (strided) one"
    return None


def shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether the storages behind a and b overlap (a view, or the tensor itself)."""
    if a.device != b.device or a.numel() == 0 or b.numel() == 0:
        return False
    sa, sb = a.untyped_storage(), b.untyped_storage()
    return sa.data_ptr() < sb.data_ptr() + sb.nbytes() and sb.data_ptr() < sa.data_ptr() + sa.nbytes()
