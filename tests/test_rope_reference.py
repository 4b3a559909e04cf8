"""The float64 RoPE reference against 60-digit mpmath, and its conventions and guards."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

mpmath = pytest.importorskip("mpmath")

from pe_spec.families.rope.conventions import interleaved_to_half  # noqa: E402
from pe_spec.families.rope import reference  # noqa: E402

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


@pytest.mark.parametrize("layout", ["interleaved", "half"])
def test_blocked_and_threaded_apply_is_blocking_independent(layout, monkeypatch):
    """Long inputs run in blocks of rows, on several threads: the result is bit for bit the
    unblocked one, and matches mpmath on sampled rows (positions up to 2**31 - 1)."""
    rng = np.random.default_rng(5)
    seq, head_dim, rotary_dim, base = 4096, 520, 512, 500000.0
    positions = np.concatenate([np.arange(seq // 2), rng.integers(-(2**31 - 1), 2**31, seq // 2)])
    x = rng.standard_normal((1, seq, head_dim), dtype=np.float32)
    assert x.size >= reference._PARALLEL_ELEMENTS
    y = reference.apply(x, positions, rotary_dim=rotary_dim, base=base, layout=layout)
    monkeypatch.setattr(reference, "_BLOCK_ELEMENTS", 2**40)
    whole = reference.apply(x, positions, rotary_dim=rotary_dim, base=base, layout=layout)
    assert y.view(np.uint64).tolist() == whole.view(np.uint64).tolist()
    first, second = (np.arange(0, rotary_dim, 2), np.arange(1, rotary_dim, 2)) if layout == "interleaved" \
        else (np.arange(rotary_dim // 2), np.arange(rotary_dim // 2, rotary_dim))
    w = _mp_inv_freq(rotary_dim, base)
    with mpmath.workdps(DPS):
        for s in (0, 1, seq // 2 - 1, seq // 2, seq - 1):
            p = int(positions[s])
            for i in (0, 1, rotary_dim // 4, rotary_dim // 2 - 1):
                t = p * w[i]
                xa, xb = mpmath.mpf(float(x[0, s, first[i]])), mpmath.mpf(float(x[0, s, second[i]]))
                ya, yb = xa * mpmath.cos(t) - xb * mpmath.sin(t), xa * mpmath.sin(t) + xb * mpmath.cos(t)
                err = mpmath.sqrt((y[0, s, first[i]] - ya) ** 2 + (y[0, s, second[i]] - yb) ** 2)
                assert err <= 1e-15 * mpmath.sqrt(xa**2 + xb**2), (layout, p, i)
    np.testing.assert_array_equal(y[..., rotary_dim:], x[..., rotary_dim:])


def test_pair_norms_match_hypot_everywhere():
    """pair_norms (sqrt of the sum of squares, hypot where that could under- or overflow) agrees
    with np.hypot to an ulp, including tiny, huge, zero, infinite and NaN pairs."""
    rng = np.random.default_rng(6)
    v = rng.standard_normal((64, 32)) * 10.0 ** rng.integers(-320, 300, (64, 32))
    v[0, :8] = [0.0, -0.0, np.inf, np.nan, 1e-320, 0.0, np.nan, -np.inf]
    v[1, :4] = [1e200, 1e200, 3e-200, 4e-200]
    for layout in ("interleaved", "half"):
        got = reference.pair_norms(v, rotary_dim=32, layout=layout)
        first, second = (slice(0, 32, 2), slice(1, 32, 2)) if layout == "interleaved" else (slice(0, 16), slice(16, 32))
        want = np.hypot(v[:, first], v[:, second])
        assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isinf(got), np.isinf(want))
        ok = np.isfinite(want) & (want > 0)
        np.testing.assert_allclose(got[ok], want[ok], rtol=3e-16, atol=0)
        assert np.all(got[want == 0] == 0)
