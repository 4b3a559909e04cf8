"""Float64 reference for rotary position embeddings, exact for integer positions |p| < 2**31.

"Exact" means the error is far below any float64 rounding of the result: inverse frequencies
are evaluated in 50-digit arithmetic and kept as double-doubles, and the angle p * w is formed
and reduced modulo 2*pi exactly (pe_spec.exact) before cos/sin. tests/test_rope_reference.py
checks this against mpmath.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from pe_spec import exact
from pe_spec.conventions import check_layout, check_rotary_dim, pair_channels

MAX_ABS_POSITION = exact.MAX_ABS_POSITION


@lru_cache(maxsize=256)
def _inv_freq_double_double(rotary_dim: int, base: float) -> tuple[np.ndarray, np.ndarray]:
    import mpmath

    check_rotary_dim(rotary_dim)
    if not base > 1.0:
        raise ValueError(f"base must be > 1, got {base}")
    with mpmath.workdps(exact.DIGITS):
        b = mpmath.mpf(base)
        return exact.double_double([b ** (mpmath.mpf(-2 * i) / rotary_dim) for i in range(rotary_dim // 2)])


def inverse_frequencies(rotary_dim: int, base: float) -> np.ndarray:
    """w_i = base**(-2i/rotary_dim), i = 0..rotary_dim/2-1, correctly rounded to float64."""
    return _inv_freq_double_double(rotary_dim, float(base))[0].copy()


def angles(positions: np.ndarray, rotary_dim: int, base: float) -> np.ndarray:
    """p * w_i reduced to [-pi, pi], shape positions.shape + (rotary_dim/2,), float64."""
    p = np.asarray(positions)
    if not np.issubdtype(p.dtype, np.integer):
        raise TypeError(f"positions must be integers, got dtype {p.dtype}")
    p = exact.check_positions(p)
    return exact.reduced_angles(p, *_inv_freq_double_double(rotary_dim, float(base)))


def angle_error(theta: np.ndarray, positions: np.ndarray, rotary_dim: int, base: float) -> np.ndarray:
    """theta - p * w_i, computed without cancellation (theta is an angle some kernel produced for
    positions, shape positions.shape + (rotary_dim/2,)); not reduced modulo 2pi."""
    return exact.angle_error(theta, positions, *_inv_freq_double_double(rotary_dim, float(base)))


def apply(x: np.ndarray, positions: np.ndarray, *, rotary_dim: int, base: float, layout: str,
          scale: float = 1.0) -> np.ndarray:
    """RoPE of x[..., seq, head_dim] at positions[seq] (or broadcastable to x's leading dims + seq).

    Channels >= rotary_dim pass through unchanged; ``scale`` multiplies the rotated pairs
    (1 for plain RoPE).
    """
    check_layout(layout)
    x = np.asarray(x, dtype=np.float64)
    if rotary_dim > x.shape[-1]:
        raise ValueError(f"rotary_dim {rotary_dim} exceeds head_dim {x.shape[-1]}")
    theta = angles(positions, rotary_dim, base)
    c, s = scale * np.cos(theta), scale * np.sin(theta)
    first, second = pair_channels(layout, rotary_dim)
    a, b = x[..., first], x[..., second]
    out = x.copy()
    out[..., first] = a * c - b * s
    out[..., second] = a * s + b * c
    return out


def pair_norms(x: np.ndarray, *, rotary_dim: int, layout: str) -> np.ndarray:
    """||(x_a, x_b)|| for every pair: shape x.shape[:-1] + (rotary_dim/2,), float64."""
    first, second = pair_channels(layout, rotary_dim)
    x = np.asarray(x, dtype=np.float64)
    return np.hypot(x[..., first], x[..., second])


def pair_errors(y: np.ndarray, ref: np.ndarray, *, rotary_dim: int, layout: str) -> np.ndarray:
    """||y_pair - ref_pair|| for every pair (float64)."""
    return pair_norms(np.asarray(y, np.float64) - ref, rotary_dim=rotary_dim, layout=layout)
