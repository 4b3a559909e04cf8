"""The float64 sinusoidal reference against 50-digit mpmath, its named conventions and its guards."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

mpmath = pytest.importorskip("mpmath")

from pe_spec.spec import exact  # noqa: E402
from pe_spec.families.sinusoidal import reference as R  # noqa: E402

DPS = 50
_BIG = [2**11 - 1, 2**11 + 1, 2**16 + 1, 2**20 + 7, 2**24 - 1, 2**24 + 1, 2**31 - 3]
POSITIONS = np.array([0, 1, 2, 3, 100, 4095] + _BIG + [-1, -7, -(2**31 - 1)], dtype=np.int64)
CONVENTIONS = sorted(R.CONVENTIONS)


@lru_cache(maxsize=None)
def _mp_freqs(npairs: int, base: float, denominator: str) -> tuple:
    """Written from the formulas, independently of the reference."""
    with mpmath.workdps(DPS):
        b = mpmath.mpf(base)
        if denominator == "vaswani":        # base ** (-2k / d), d = 2K
            return tuple(b ** (-mpmath.mpf(2 * k) / (2 * npairs)) for k in range(npairs))
        inc = mpmath.log(b) / max(npairs - 1, 1)       # t2t: log(max/min) / (K - 1), min = 1
        return tuple(mpmath.exp(-k * inc) for k in range(npairs))


def _mp_table(positions, dim: int, base: float, conv: R.Convention) -> list[list]:
    K = dim // 2
    w = _mp_freqs(K, base, conv.denominator)
    rows = []
    with mpmath.workdps(DPS):
        for p in positions:
            q = int(p) + conv.position_offset
            row = [mpmath.mpf(0)] * dim
            for k in range(K):
                s, c = mpmath.sin(q * w[k]), mpmath.cos(q * w[k])
                if conv.layout == "interleaved":
                    row[2 * k], row[2 * k + 1] = s, c
                else:
                    row[k], row[K + k] = s, c
            rows.append(row)
    return rows


def _dims(conv: R.Convention) -> list[int]:
    dims = [4, 8, 64]
    if conv.odd_dim == "pad":
        dims.append(9)
    if conv.min_dim <= 2:
        dims.append(2)
    return dims


@pytest.mark.parametrize("name", CONVENTIONS)
def test_table_matches_mpmath(name):
    conv = R.CONVENTIONS[name]
    for dim in _dims(conv):
        for base in (10000.0, 500000.0, 10.0):
            got = R.table(POSITIONS, dim, base, name)
            assert got.shape == (len(POSITIONS), dim) and got.dtype == np.float64
            want = _mp_table(POSITIONS, dim, base, conv)
            with mpmath.workdps(DPS):
                worst = max(abs(mpmath.mpf(got[s, c]) - want[s][c])
                            for s in range(len(POSITIONS)) for c in range(dim))
            # Measured worst: 3.9e-16 (the reduced angle's last-bit rounding plus libm's sin/cos).
            assert worst < 1e-15, f"{name} d={dim} base={base}: worst error {float(worst):.3g}"


@pytest.mark.parametrize("name", CONVENTIONS)
@pytest.mark.parametrize("base", [10000.0, 500000.0, 10.0])
def test_frequencies_correctly_rounded(name, base):
    conv = R.CONVENTIONS[name]
    for dim in _dims(conv):
        got = R.frequencies(dim, base, name)
        want = np.array([float(w) for w in _mp_freqs(dim // 2, base, conv.denominator)])
        np.testing.assert_array_equal(got, want)
        assert got[0] == 1.0 and np.all(np.diff(got) < 0)


@pytest.mark.parametrize("dim", [4, 8, 64, 512, 9, 2])
@pytest.mark.parametrize("base", [10000.0, 500000.0, 10.0])
def test_t2t_lowest_frequency_is_one_over_base(dim, base):
    for name in ("tensor2tensor", "fairseq", "whisper"):
        conv = R.CONVENTIONS[name]
        if dim < conv.min_dim or (dim % 2 and conv.odd_dim == "error"):
            continue
        w = R.frequencies(dim, base, name)
        if dim >= 4:
            assert w[-1] == 1.0 / base, (name, dim, base)   # both correctly rounded
        else:
            np.testing.assert_array_equal(w, [1.0])          # K = 1: max(K - 1, 1) = 1


def test_vaswani_lowest_frequency():
    # formulas.md, section 1: for d = 512, t2t gives 1.0e-4 and Vaswani 1.0366e-4.
    w = R.frequencies(512, 10000.0, "vaswani")
    assert w[-1] == pytest.approx(1.0366e-4, abs=5e-9)
    assert R.frequencies(512, 10000.0, "tensor2tensor")[-1] == 1e-4
    for dim in (4, 8, 64, 512):
        with mpmath.workdps(DPS):
            want = float(mpmath.mpf(10000) ** (-mpmath.mpf(dim - 2) / dim))
        assert R.frequencies(dim, 10000.0, "vaswani")[-1] == want
        assert R.frequencies(dim, 10000.0, "vaswani")[-1] > 1e-4
    np.testing.assert_array_equal(R.frequencies(64, 10000.0, "vaswani"), R.frequencies(64, 10000.0, "concat"))


def test_pair_index_counts_pairs_not_dimensions():
    # w_i = base**(-2i/d): columns 2i and 2i+1 share frequency i; 'i/d' would give base**(-i/d).
    d, base = 16, 10000.0
    w = R.frequencies(d, base)
    np.testing.assert_allclose(w, base ** (-np.arange(0, d, 2) / d), rtol=1e-15)
    assert not np.allclose(w, base ** (-np.arange(d // 2) / d))
    theta = R.angles(np.array([7]), d, base)[0]
    t = R.table(np.array([7]), d, base)[0]
    np.testing.assert_allclose(np.arctan2(t[0::2], t[1::2]), theta, atol=1e-15)


# --- formulas.md's own snippets (plain float64) agree at small positions ----------------------

def _snippet_vaswani(num_pos, d, base=10000.0):
    pe = np.zeros((num_pos, d))
    pos = np.arange(num_pos)[:, None]
    i = np.arange(d // 2)[None, :]
    angle = pos / base ** (2 * i / d)
    pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)
    return pe


def _snippet_t2t(num_pos, channels, min_ts=1.0, max_ts=1.0e4, start_index=0):
    k = channels // 2
    inc = math.log(max_ts / min_ts) / max(k - 1, 1)
    inv = min_ts * np.exp(-np.arange(k) * inc)
    t = (np.arange(num_pos) + start_index)[:, None] * inv[None, :]
    sig = np.concatenate([np.sin(t), np.cos(t)], axis=1)
    return np.pad(sig, [(0, 0), (0, channels % 2)])


@pytest.mark.parametrize("dim", [2, 3, 8, 9, 64])
def test_agrees_with_formulas_md_snippets(dim):
    n = 200
    p = np.arange(n)
    np.testing.assert_allclose(R.table(p, dim, convention="tensor2tensor"), _snippet_t2t(n, dim), atol=1e-12, rtol=0)
    if dim >= 4:
        np.testing.assert_allclose(R.table(p, dim, convention="fairseq"), _snippet_t2t(n, dim, start_index=2),
                                   atol=1e-12, rtol=0)
    if dim % 2 == 0:
        np.testing.assert_allclose(R.table(p, dim, convention="vaswani"), _snippet_vaswani(n, dim), atol=1e-12, rtol=0)


# --- layouts, offsets and the relations between conventions ----------------------------------

def test_layouts_are_placed_right():
    d, K = 8, 4
    p = POSITIONS
    theta = R.angles(p, d)
    v = R.table(p, d, convention="vaswani")
    c = R.table(p, d, convention="concat")
    np.testing.assert_array_equal(v[:, 0::2], np.sin(theta))
    np.testing.assert_array_equal(v[:, 1::2], np.cos(theta))
    np.testing.assert_array_equal(c[:, :K], np.sin(theta))
    np.testing.assert_array_equal(c[:, K:], np.cos(theta))
    perm = np.concatenate([np.arange(0, d, 2), np.arange(1, d, 2)])      # interleaved -> [sin | cos]
    np.testing.assert_array_equal(v[:, perm], c)
    assert R.table(np.array([0]), d, convention="concat")[0].tolist() == [0.0] * K + [1.0] * K
    assert R.table(np.array([0]), d, convention="vaswani")[0].tolist() == [0.0, 1.0] * K


@pytest.mark.parametrize("name", CONVENTIONS)
@pytest.mark.parametrize("dim", [4, 8, 9])
def test_pair_channels_match_table(name, dim):
    conv = R.CONVENTIONS[name]
    if dim % 2 and conv.odd_dim == "error":
        with pytest.raises(ValueError, match="even"):
            R.pair_channels(dim, name)
        return
    sin_cols, cos_cols = R.pair_channels(dim, name)
    assert len(sin_cols) == len(cos_cols) == dim // 2
    theta = R.angles(POSITIONS, dim, convention=name)
    t = R.table(POSITIONS, dim, convention=name)
    np.testing.assert_array_equal(t[:, sin_cols], np.sin(theta))
    np.testing.assert_array_equal(t[:, cos_cols], np.cos(theta))
    used = set(sin_cols.tolist()) | set(cos_cols.tolist())
    assert len(used) == 2 * (dim // 2)
    if dim % 2:
        assert used == set(range(dim - 1))
        np.testing.assert_array_equal(t[:, dim - 1], 0.0)              # the zero pad column, at the end
    expect_sin = np.arange(0, 2 * (dim // 2), 2) if conv.layout == "interleaved" else np.arange(dim // 2)
    np.testing.assert_array_equal(sin_cols, expect_sin)


def test_fairseq_offset_honoured():
    p = np.array([0, 1, 5, 2**24, 2**31 - 3])
    conv = R.CONVENTIONS["fairseq"]
    assert conv.position_offset == 2
    np.testing.assert_array_equal(R.table(p, 16, convention="fairseq"), R.table(p + 2, 16, convention="tensor2tensor"))
    # The first token (position 0) is encoded at q = padding_idx + 1 = 2, not at 0.
    np.testing.assert_array_equal(R.table(np.array([0]), 4, convention="fairseq")[0],
                                  [math.sin(2.0), math.sin(2e-4), math.cos(2.0), math.cos(2e-4)])
    for pad, off in [(0, 1), (None, 1), (1, 2), (5, 6)]:
        c = R.fairseq_convention(pad)
        assert c.position_offset == off and c.layout == "concat" and c.denominator == "t2t"
        np.testing.assert_array_equal(R.table(p[:4], 9, convention=c), R.table(p[:4] + off, 9, convention="tensor2tensor"))
    assert R.fairseq_convention(1) == conv
    with pytest.raises(ValueError):
        R.fairseq_convention(-1)
    with pytest.raises(ValueError, match="2\\*\\*31"):              # 2**31 - 2 + 2 is out of range
        R.table(np.array([2**31 - 2]), 8, convention="fairseq")


def test_whisper_is_tensor2tensor_on_even_dims():
    p = POSITIONS
    for dim in (4, 8, 384):
        np.testing.assert_array_equal(R.table(p, dim, convention="whisper"), R.table(p, dim, convention="tensor2tensor"))
    for dim in (3, 7):
        with pytest.raises(ValueError, match="even dim"):
            R.table(p, dim, convention="whisper")
        R.table(p, dim, convention="tensor2tensor")                       # t2t pads instead
    for name in ("whisper", "fairseq"):
        with pytest.raises(ValueError, match="dim >= 4"):
            R.table(p, 2, convention=name)


def test_exact_angles_bitwise_equal_rope_reference():
    # pe_spec.exact is the generic form of the RoPE reference's machinery: same arithmetic.
    from pe_spec.families.rope import reference as rope_ref

    rng = np.random.default_rng(0)
    p = np.concatenate([POSITIONS, rng.integers(-(2**31) + 1, 2**31, 300)])
    for d, base in [(64, 10000.0), (128, 500000.0), (2, 10.0)]:
        w = rope_ref.inverse_frequencies(d, base)
        with mpmath.workdps(DPS):
            hi, lo = exact.double_double(mpmath.mpf(base) ** (-mpmath.mpf(2 * i) / d) for i in range(d // 2))
        np.testing.assert_array_equal(hi, w)
        np.testing.assert_array_equal(exact.reduced_angles(p, hi, lo), rope_ref.angles(p, d, base))
        theta = rope_ref.angles(p, d, base)
        np.testing.assert_array_equal(exact.angle_error(theta, p, hi, lo), rope_ref.angle_error(theta, p, d, base))


def test_norm_is_number_of_pairs():
    for name, dim in [("vaswani", 64), ("concat", 8), ("tensor2tensor", 9), ("fairseq", 5)]:
        t = R.table(POSITIONS, dim, convention=name)
        np.testing.assert_allclose((t * t).sum(-1), dim // 2, rtol=1e-14)
        assert np.all(np.abs(t) <= 1.0)


def test_table_shapes():
    p = np.arange(6).reshape(2, 3)
    t = R.table(p, 8)
    assert t.shape == (2, 3, 8)
    np.testing.assert_array_equal(t.reshape(6, 8), R.table(np.arange(6), 8))
    assert R.table(np.array([], dtype=np.int64), 8).shape == (0, 8)
    assert R.table(np.int64(3), 4).shape == (4,)


# --- guards ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,dim", [("vaswani", 7), ("concat", 5), ("vaswani", 0), ("vaswani", -2),
                                      ("tensor2tensor", 1), ("tensor2tensor", 0)])
def test_bad_dims_raise(name, dim):
    with pytest.raises(ValueError, match=name):
        R.table(np.arange(3), dim, convention=name)


def test_odd_dim_message_says_what_the_convention_requires():
    with pytest.raises(ValueError, match=r"'vaswani' requires an even dim \(interleaved"):
        R.frequencies(7, 10000.0, "vaswani")
    with pytest.raises(ValueError, match=r"'concat' requires an even dim \(a \[sin \| cos\]"):
        R.frequencies(7, 10000.0, "concat")


@pytest.mark.parametrize("bad", [2**31, -(2**31), 2**40])
def test_positions_beyond_2_31_raise(bad):
    with pytest.raises(ValueError):
        R.table(np.array([0, bad], dtype=np.int64), 8)
    R.table(np.array([2**31 - 1, -(2**31 - 1)], dtype=np.int64), 8)                # the edge is fine


@pytest.mark.parametrize("positions", [np.array([0.0, 1.0]), np.array([1], dtype=np.float32), np.array([True])])
def test_non_integer_positions_raise(positions):
    with pytest.raises(TypeError):
        R.table(positions, 8)


def test_bad_base_and_convention_raise():
    for base in (1.0, 0.5, -10.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="base"):
            R.frequencies(8, base)
    with pytest.raises(ValueError, match="unknown sinusoidal convention"):
        R.table(np.arange(2), 8, convention="t2t")
    with pytest.raises(ValueError, match="layout"):
        R.Convention("x", "half", "vaswani")
    with pytest.raises(ValueError, match="denominator"):
        R.Convention("x", "concat", "i/d")
    custom = R.Convention("shifted", "interleaved", "vaswani", position_offset=-3)
    np.testing.assert_array_equal(R.table(np.array([3, 10]), 8, convention=custom), R.table(np.array([0, 7]), 8))


def test_results_are_fresh_arrays():
    w = R.frequencies(8)
    w[0] = 5.0
    assert R.frequencies(8)[0] == 1.0
