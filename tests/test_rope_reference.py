"""The float64 RoPE reference against 60-digit mpmath, and its conventions and guards."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

mpmath = pytest.importorskip("mpmath")

from pe_spec.conventions import interleaved_to_half  # noqa: E402
from pe_spec.rope import reference  # noqa: E402

DPS = 60
_BIG = [2**11 - 1, 2**11 + 1, 2**16 - 1, 2**16 + 1, 2**20 + 7, 2**24 - 1, 2**24 + 1, 2**31 - 1]
POSITIONS = np.array([0, 1, 2, 3, 100, 4095] + _BIG + [-1, -7] + [-p for p in _BIG], dtype=np.int64)
DIMS = [2, 8, 64, 128]
BASES = [10000.0, 500000.0, 1e6, 100.0]


@lru_cache(maxsize=None)
def _mp_inv_freq(rotary_dim: int, base: float) -> tuple:
    with mpmath.workdps(DPS):
        return tuple(mpmath.mpf(base) ** (mpmath.mpf(-2 * i) / rotary_dim) for i in range(rotary_dim // 2))


def _mp_angle_error(p: int, w, got: float) -> float:
    """|got - p*w| modulo 2*pi (so -pi and +pi at the reduction boundary are the same angle)."""
    with mpmath.workdps(DPS):
        two_pi = 2 * mpmath.pi
        diff = mpmath.mpf(got) - p * w
        diff -= two_pi * mpmath.nint(diff / two_pi)
        return float(abs(diff))


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("rotary_dim", DIMS)
def test_angles_match_mpmath(rotary_dim, base):
    got = reference.angles(POSITIONS, rotary_dim, base)
    assert got.shape == (len(POSITIONS), rotary_dim // 2) and got.dtype == np.float64
    assert np.all(np.abs(got) <= np.pi + 1e-15)               # reduced
    w = _mp_inv_freq(rotary_dim, base)
    worst = max(_mp_angle_error(int(p), w[i], got[s, i])
                for s, p in enumerate(POSITIONS) for i in range(rotary_dim // 2))
    assert worst < 1e-15, f"worst reduced-angle error {worst:.3g} (d={rotary_dim}, base={base})"


@pytest.mark.parametrize("rotary_dim,base", [(d, b) for d in DIMS for b in BASES])
def test_inverse_frequencies_correctly_rounded(rotary_dim, base):
    got = reference.inverse_frequencies(rotary_dim, base)
    want = np.array([float(w) for w in _mp_inv_freq(rotary_dim, base)])
    np.testing.assert_array_equal(got, want)
    assert got[0] == 1.0


@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_apply_matches_mpmath_rotation(layout):
    rng = np.random.default_rng(0)
    rotary_dim, head_dim, base = 8, 10, 10000.0
    positions = np.array([0, 5, 2**16 + 1, 2**24 - 1, -(2**31 - 1)], dtype=np.int64)
    x = rng.standard_normal((3, len(positions), head_dim)) * np.array([1.0, 1e-3, 1e3])[:, None, None]
    y = reference.apply(x, positions, rotary_dim=rotary_dim, base=base, layout=layout)
    half = rotary_dim // 2
    first, second = (np.arange(half) * 2, np.arange(half) * 2 + 1) if layout == "interleaved" \
        else (np.arange(half), np.arange(half) + half)
    w = _mp_inv_freq(rotary_dim, base)
    with mpmath.workdps(DPS):
        for b in range(x.shape[0]):
            for s, p in enumerate(positions):
                for i in range(half):
                    t = int(p) * w[i]
                    c, sn = mpmath.cos(t), mpmath.sin(t)
                    xa, xb = mpmath.mpf(x[b, s, first[i]]), mpmath.mpf(x[b, s, second[i]])
                    ya, yb = xa * c - xb * sn, xa * sn + xb * c
                    err = mpmath.sqrt((y[b, s, first[i]] - ya) ** 2 + (y[b, s, second[i]] - yb) ** 2)
                    norm = mpmath.sqrt(xa**2 + xb**2)
                    assert err <= 1e-15 * norm, (layout, b, int(p), i, float(err / norm))


@pytest.mark.parametrize("rotary_dim,head_dim", [(8, 8), (6, 10), (2, 4)])
def test_interleaved_and_half_are_conjugate(rotary_dim, head_dim):
    rng = np.random.default_rng(1)
    positions = np.array([0, 3, 2**20 + 7, -9])
    x = rng.standard_normal((2, len(positions), head_dim))
    Q = np.concatenate([interleaved_to_half(rotary_dim), np.arange(rotary_dim, head_dim)])
    kw = dict(rotary_dim=rotary_dim, base=10000.0)
    lhs = reference.apply(x, positions, layout="interleaved", **kw)[..., Q]
    rhs = reference.apply(x[..., Q], positions, layout="half", **kw)
    np.testing.assert_array_equal(lhs, rhs)


@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_pass_through_channels_bit_identical(layout):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 12))
    x[0, 0, 8:] = [-0.0, 5e-324, np.inf, np.nan]           # signed zero, subnormal, inf, nan
    y = reference.apply(x, np.array([1, 2**20, -3]), rotary_dim=8, base=10000.0, layout=layout)
    assert y[..., 8:].view(np.uint64).tolist() == x[..., 8:].view(np.uint64).tolist()
    assert not np.shares_memory(y, x)


@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_position_zero_is_identity(layout):
    x = np.random.default_rng(3).standard_normal((4, 1, 16)) * 1e3
    assert np.all(reference.angles(np.array([0]), 16, 10000.0) == 0.0)
    y = reference.apply(x, np.array([0]), rotary_dim=16, base=10000.0, layout=layout)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("bad", [2**31, -(2**31), 2**40])
def test_positions_beyond_2_31_raise(bad):
    with pytest.raises(ValueError):
        reference.angles(np.array([0, bad], dtype=np.int64), 8, 10000.0)
    with pytest.raises(ValueError):
        reference.apply(np.zeros((2, 8)), np.array([1, bad], dtype=np.int64), rotary_dim=8,
                        base=10000.0, layout="half")
    reference.angles(np.array([2**31 - 1, -(2**31 - 1)], dtype=np.int64), 8, 10000.0)   # the edge is fine


@pytest.mark.parametrize("positions", [np.array([0.0, 1.0]), np.array([1.5]), np.array([1], dtype=np.float32)])
def test_non_integer_positions_raise(positions):
    with pytest.raises(TypeError):
        reference.angles(positions, 8, 10000.0)
    with pytest.raises(TypeError):
        reference.apply(np.zeros((len(positions), 8)), positions, rotary_dim=8, base=10000.0,
                        layout="interleaved")
