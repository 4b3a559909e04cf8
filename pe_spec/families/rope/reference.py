"""Float64 reference for rotary position embeddings, exact for integer positions |p| < 2**31.

"Exact" means the error is far below any float64 rounding of the result: inverse frequencies
are evaluated in 50-digit arithmetic and kept as double-doubles, and the angle p * w is formed
and reduced modulo 2*pi exactly (pe_spec.exact) before cos/sin. tests/test_rope_reference.py
checks this against mpmath.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from pe_spec.spec import exact
from pe_spec.families.rope.conventions import check_layout, check_rotary_dim

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
    (1 for plain RoPE). Returns a new float64 array shaped like x.

    Evaluated in blocks of sequence rows (angles, cos/sin and the rotation of one block at a
    time, in cache-sized float64 temporaries; x is read in its own dtype), so memory beyond the
    output stays small even for 2**20 positions; long inputs are split over the CPU cores. Every
    element gets the same float64 operations whatever the blocking, so results do not depend on it.
    """
    check_layout(layout)
    x = np.asarray(x)
    if x.dtype not in _NATIVE_FLOATS:
        x = x.astype(np.float64)
    if x.ndim == 0:
        raise ValueError("x must have a channel axis")
    if rotary_dim > x.shape[-1]:
        raise ValueError(f"rotary_dim {rotary_dim} exceeds head_dim {x.shape[-1]}")
    p = np.asarray(positions)
    if not np.issubdtype(p.dtype, np.integer):
        raise TypeError(f"positions must be integers, got dtype {p.dtype}")
    p = exact.check_positions(p)
    hi, lo = _inv_freq_double_double(rotary_dim, float(base))
    out = np.empty(x.shape, dtype=np.float64)
    first, second = _pair_slices(layout, rotary_dim)
    seq = x.shape[-2] if x.ndim >= 2 else 1
    # Blocks along the sequence axis (x's axis -2, positions' last axis); positions that
    # broadcast along it (last axis 1, or a scalar) are used whole for every block.
    split_p = p.ndim >= 1 and p.shape[-1] == seq and seq > 1
    if x.ndim < 2 or (p.ndim >= 1 and p.shape[-1] not in (1, seq)):
        blocks = [slice(None)]      # nothing to block along (numpy reports bad broadcasts)
    else:
        per_row = max(1, x.size // max(1, seq))
        rows = max(1, _BLOCK_ELEMENTS // per_row)
        blocks = [slice(s, min(s + rows, seq)) for s in range(0, seq, rows)]

    def run(block: slice) -> None:
        xb = x[..., block, :] if x.ndim >= 2 else x
        ob = out[..., block, :] if x.ndim >= 2 else out
        pb = p[..., block] if split_p else p
        theta = exact.reduced_angles(pb, hi, lo)
        c, s = np.cos(theta), np.sin(theta)
        if scale != 1.0:
            c *= scale
            s *= scale
        a, b = xb[..., first], xb[..., second]
        t1, t2 = a * c, b * s
        if t1.shape != a.shape:     # positions with more dims than x: assignment broadcasts or raises
            ob[..., first] = t1 - t2
            ob[..., second] = a * s + b * c
        else:
            np.subtract(t1, t2, out=ob[..., first])
            np.multiply(a, s, out=t1)
            np.multiply(b, c, out=t2)
            np.add(t1, t2, out=ob[..., second])
        ob[..., rotary_dim:] = xb[..., rotary_dim:]

    if len(blocks) > 1 and x.size >= _PARALLEL_ELEMENTS and _threads() > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(_threads()) as pool:   # numpy releases the GIL in its loops
            list(pool.map(run, blocks))
    else:
        for block in blocks:
            run(block)
    return out


# Block size (elements of x per block) and the size from which blocks run on several threads.
_BLOCK_ELEMENTS = 1 << 16
_PARALLEL_ELEMENTS = 1 << 21
_NATIVE_FLOATS = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))


def _threads() -> int:
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _pair_slices(layout: str, rotary_dim: int) -> tuple[slice, slice]:
    """pair_channels as slices (views, not copies): interleaved (2i, 2i+1), half (i, i + d/2)."""
    check_layout(layout)
    half = check_rotary_dim(rotary_dim) // 2
    if layout == "interleaved":
        return slice(0, rotary_dim, 2), slice(1, rotary_dim, 2)
    return slice(0, half), slice(half, rotary_dim)


def pair_norms(x: np.ndarray, *, rotary_dim: int, layout: str) -> np.ndarray:
    """||(x_a, x_b)|| for every pair: shape x.shape[:-1] + (rotary_dim/2,), float64.

    sqrt(a*a + b*b), which equals hypot(a, b) to within an ulp while the squares neither
    overflow nor underflow; the few pairs where they might (and non-finite ones) are recomputed
    with np.hypot, so the result is hypot's wherever it matters (np.hypot costs about 20 times
    a square root per element).
    """
    first, second = _pair_slices(layout, rotary_dim)
    x = np.asarray(x)
    if x.dtype not in _NATIVE_FLOATS:
        x = x.astype(np.float64)
    a, b = x[..., first], x[..., second]
    with np.errstate(over="ignore", under="ignore"):
        sq = np.multiply(a, a, dtype=np.float64)
        sq += np.multiply(b, b, dtype=np.float64)
    out = np.sqrt(sq, out=sq)
    if out.size:
        lo, hi = out.min(), out.max()
        if not (lo >= _SAFE_LOW and hi <= _SAFE_HIGH):        # also true for NaN
            unsafe = ~(out <= _SAFE_HIGH) | ((out < _SAFE_LOW) & ((a != 0) | (b != 0)))
            if unsafe.any():
                out[unsafe] = np.hypot(a.astype(np.float64)[unsafe], b.astype(np.float64)[unsafe])
    return out


# Norms in [2**-509, 2**510] have squares (and sums of two squares) that are normal float64s.
_SAFE_LOW = float(np.sqrt(np.finfo(np.float64).tiny)) * 4
_SAFE_HIGH = float(np.sqrt(np.finfo(np.float64).max)) / 4


def pair_errors(y: np.ndarray, ref: np.ndarray, *, rotary_dim: int, layout: str) -> np.ndarray:
    """||y_pair - ref_pair|| for every pair (float64)."""
    return pair_norms(np.asarray(y, np.float64) - ref, rotary_dim=rotary_dim, layout=layout)
