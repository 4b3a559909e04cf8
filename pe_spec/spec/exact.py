"""Exact angles p * w for integer positions |p| < 2**31: the machinery every float64 reference shares.

A frequency w is held as a double-double ``hi + lo`` (``hi`` the correctly rounded float64,
``lo`` the float64 nearest the rest), evaluated in 50-digit mpmath. The angle p * w is formed
as a double-double with Dekker's exact product, then reduced modulo 2*pi with a three-piece
Cody-Waite constant, so the reduced angle in [-pi, pi] is good to about one float64 unit in the
last place, whatever the position (a plain ``p * w`` in float64 has absolute error up to
``|p| * 2**-53``, 2e-7 rad at p = 2**31).

This is a generic version of the helpers in ``pe_spec/families/rope/reference.py`` (identical
arithmetic, so results agree bit for bit); rope can switch to it. tests/test_sinusoidal_reference.py
checks the angles against mpmath.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

__all__ = ["MAX_ABS_POSITION", "DIGITS", "double_double", "split", "two_product", "TWO_PI_PIECES",
           "check_positions", "reduced_angles", "angle_error"]

MAX_ABS_POSITION = 2**31
DIGITS = 50   # mpmath working precision for frequencies and the 2*pi pieces


def double_double(values: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) float64 arrays with hi + lo == v to ~106 bits for each mpmath number v.

    ``hi`` is v correctly rounded to float64; ``lo`` is v - hi rounded. Evaluate the values
    under ``mpmath.workdps(DIGITS)`` (or more) before passing them.
    """
    import mpmath

    hi, lo = [], []
    with mpmath.workdps(DIGITS):
        for v in values:
            v = mpmath.mpf(v)
            h = float(v)
            hi.append(h)
            lo.append(float(v - mpmath.mpf(h)))
    return np.array(hi, dtype=np.float64), np.array(lo, dtype=np.float64)


def split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp split: a == hi + lo exactly, each with at most 26 significant bits."""
    c = 134217729.0 * a  # 2**27 + 1
    hi = c - (c - a)
    return hi, a - hi


def two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p = fl(a * b) and p + e == a * b exactly (Dekker)."""
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


# 2*pi in three pieces: c1 and c2 carry 24 significant bits each, so k * c1 and k * c2 are
# exact for |k| < 2**29 (|p| < 2**31 and w <= 1 give |k| < 2**28.5); c3 is the float64 remainder.
def _two_pi_pieces() -> tuple[float, float, float]:
    import mpmath

    def round_to_bits(v, bits: int) -> float:
        m, ex = math.frexp(float(v))
        return math.ldexp(round(math.ldexp(m, bits)), ex - bits)

    with mpmath.workdps(DIGITS):
        tp = 2 * mpmath.pi
        c1 = round_to_bits(tp, 24)
        c2 = round_to_bits(tp - c1, 24)
        c3 = float(tp - c1 - c2)
    return c1, c2, c3


TWO_PI_PIECES: tuple[float, float, float] = _two_pi_pieces()


def check_positions(positions, *, offset: int = 0) -> np.ndarray:
    """``positions + offset`` as int64, after checking they are integers with |p + offset| < 2**31.

    TypeError for non-integer dtypes (a float position is already rounded: the reference
    refuses to guess which integer was meant); ValueError beyond the exact range.
    """
    p = np.asarray(positions)
    if not (np.issubdtype(p.dtype, np.integer) and p.dtype != np.bool_):
        raise TypeError(f"positions must be integers, got dtype {p.dtype}")
    if p.size:
        lo, hi = int(p.min()) + offset, int(p.max()) + offset     # Python ints: no overflow
        worst = max(abs(lo), abs(hi))
        if worst >= MAX_ABS_POSITION:
            what = f"position + offset {offset}" if offset else "position"
            raise ValueError(f"the reference is exact only for |{what}| < 2**31, got {worst}")
    return p.astype(np.int64) + np.int64(offset)


def reduced_angles(positions: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """p * (hi + lo) reduced to [-pi, pi]: shape positions.shape + hi.shape, float64.

    ``positions`` must already satisfy ``check_positions``; frequencies must satisfy |w| <= 1
    (so that the multiple of 2*pi removed stays below 2**29). Evaluated in cache-sized blocks
    of positions with in-place arithmetic (same operations, same results, several times faster
    than whole-array temporaries for long tables).
    """
    pos = np.asarray(positions).astype(np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    flat = pos.reshape(-1)
    out = np.empty((flat.size, hi.size), dtype=np.float64)
    bh, bl = split(hi.reshape(-1))
    h, l_ = hi.reshape(-1), lo.reshape(-1)
    c1, c2, c3 = TWO_PI_PIECES
    two_pi = 2 * math.pi
    rows = max(1, _BLOCK_ELEMENTS // max(1, hi.size))
    for start in range(0, flat.size, rows):
        pf = flat[start:start + rows, None]
        ah, al = split(pf)
        s = out[start:start + rows]
        np.multiply(pf, h, out=s)                  # s = fl(p * hi)
        e = ah * bh
        e -= s
        t = ah * bl
        e += t
        np.multiply(al, bh, out=t)
        e += t
        np.multiply(al, bl, out=t)
        e += t                                     # s + e == p * hi exactly (Dekker)
        np.multiply(pf, l_, out=t)
        e += t                                     # + p * lo
        k = np.divide(s, two_pi)
        np.round(k, out=k)
        np.multiply(k, c1, out=t)
        s -= t
        np.multiply(k, c2, out=t)
        s -= t
        s += e
        np.multiply(k, c3, out=t)
        s -= t                                     # ((s - k c1) - k c2) + e - k c3
    return out.reshape(pos.shape + hi.shape)


_BLOCK_ELEMENTS = 1 << 15


def angle_error(theta: np.ndarray, positions: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """theta - p * (hi + lo) without cancellation, NOT reduced modulo 2*pi (theta is an angle some
    kernel produced for ``positions``, shape positions.shape + hi.shape)."""
    pf = np.asarray(positions).astype(np.float64)[..., None]
    s, e = two_product(pf, hi)
    return (np.asarray(theta, dtype=np.float64) - s) - (e + pf * lo)
