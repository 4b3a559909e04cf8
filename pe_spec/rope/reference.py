"""Float64 reference for rotary position embeddings, exact for integer positions |p| < 2**31.

"Exact" means the error is far below any float64 rounding of the result: inverse frequencies
are evaluated in 50-digit arithmetic and kept as double-doubles, the angle p * w is formed as a
double-double (Dekker's exact product), and reduced modulo 2*pi with a three-piece Cody-Waite
constant before cos/sin. tests/test_rope_reference.py checks this against mpmath.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from pe_spec.conventions import check_layout, check_rotary_dim, pair_channels

MAX_ABS_POSITION = 2**31
_DIGITS = 50


@lru_cache(maxsize=256)
def _inv_freq_double_double(rotary_dim: int, base: float) -> tuple[np.ndarray, np.ndarray]:
    import mpmath

    check_rotary_dim(rotary_dim)
    if not base > 1.0:
        raise ValueError(f"base must be > 1, got {base}")
    hi, lo = [], []
    with mpmath.workdps(_DIGITS):
        b = mpmath.mpf(base)
        for i in range(rotary_dim // 2):
            w = b ** (mpmath.mpf(-2 * i) / rotary_dim)
            h = float(w)
            hi.append(h)
            lo.append(float(w - mpmath.mpf(h)))
    return np.array(hi), np.array(lo)


def inverse_frequencies(rotary_dim: int, base: float) -> np.ndarray:
    """w_i = base**(-2i/rotary_dim), i = 0..rotary_dim/2-1, correctly rounded to float64."""
    return _inv_freq_double_double(rotary_dim, float(base))[0].copy()


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = 134217729.0 * a  # 2**27 + 1 (Veltkamp)
    hi = c - (c - a)
    return hi, a - hi


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


# 2*pi in three pieces: c1 and c2 carry 24 significant bits each, so k * c1 and k * c2 are
# exact for |k| < 2**29 (|p| < 2**31 gives |k| < 2**28.5); c3 is the float64 remainder.
def _two_pi_pieces() -> tuple[float, float, float]:
    import mpmath

    def round_to_bits(v, bits: int) -> float:
        m, ex = math.frexp(float(v))
        return math.ldexp(round(math.ldexp(m, bits)), ex - bits)

    with mpmath.workdps(_DIGITS):
        tp = 2 * mpmath.pi
        c1 = round_to_bits(tp, 24)
        c2 = round_to_bits(tp - c1, 24)
        c3 = float(tp - c1 - c2)
    return c1, c2, c3


_TWO_PI = _two_pi_pieces()


def angles(positions: np.ndarray, rotary_dim: int, base: float) -> np.ndarray:
    """p * w_i reduced to [-pi, pi], shape positions.shape + (rotary_dim/2,), float64."""
    p = np.asarray(positions)
    if not np.issubdtype(p.dtype, np.integer):
        raise TypeError(f"positions must be integers, got dtype {p.dtype}")
    if p.size and int(np.abs(p).max()) >= MAX_ABS_POSITION:
        raise ValueError(f"reference is exact only for |position| < 2**31, got {int(np.abs(p).max())}")
    hi, lo = _inv_freq_double_double(rotary_dim, float(base))
    pf = p.astype(np.float64)[..., None]
    s, e = _two_product(pf, hi)            # s + e == p * hi exactly
    e = e + pf * lo
    k = np.round(s / (2 * math.pi))
    c1, c2, c3 = _TWO_PI
    r = ((s - k * c1) - k * c2) + e - k * c3
    return r


def angle_error(theta: np.ndarray, positions: np.ndarray, rotary_dim: int, base: float) -> np.ndarray:
    """theta - p * w_i, computed without cancellation (theta is an angle some kernel produced for
    positions, shape positions.shape + (rotary_dim/2,)); not reduced modulo 2pi."""
    hi, lo = _inv_freq_double_double(rotary_dim, float(base))
    pf = np.asarray(positions).astype(np.float64)[..., None]
    s, e = _two_product(pf, hi)
    return (np.asarray(theta, dtype=np.float64) - s) - (e + pf * lo)


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
