"""The seed encodings behave as their docstrings say, and uniqueness_horizon is exact."""
from __future__ import annotations

import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pe_spec.spec import naive as N  # noqa: E402
from pe_spec.families.sinusoidal import reference as S  # noqa: E402


# --- the encodings ------------------------------------------------------------------------------

def test_integer_repeats_position():
    t = N.integer(np.array([0, 3, -2, 2**40]), 4)
    assert t.shape == (4, 4) and t.dtype == np.float64
    np.testing.assert_array_equal(t, np.repeat(np.array([0, 3, -2, 2**40], dtype=np.float64)[:, None], 4, axis=1))
    assert N.integer(np.arange(6).reshape(2, 3), 5).shape == (2, 3, 5)
    # Unbounded, and PE(p + k) - PE(p) = k * 1: a translation, so no linear map sends PE(0) = 0 to PE(k).
    assert np.all(N.integer(np.array([0]), 3) == 0) and np.all(N.integer(np.array([5]), 3) == 5)


def test_normalized_depends_on_length():
    a = N.normalized(np.array([5]), 4, 10)
    b = N.normalized(np.array([5]), 4, 10000)
    assert a[0, 0] == 0.5 and b[0, 0] == 5e-4
    assert not np.array_equal(a, b)                                     # same position, different encodings
    np.testing.assert_array_equal(N.normalized(np.array([5000]), 4, 10000), a)   # different positions, same encoding
    t = N.normalized(np.arange(10), 3, 10)
    assert t.min() == 0.0 and t.max() < 1.0
    for bad in ([10], [-1], [0, 11]):
        with pytest.raises(ValueError, match="0 <= p < length"):
            N.normalized(np.array(bad), 4, 10)
    with pytest.raises(ValueError, match="length"):
        N.normalized(np.array([0]), 4, 0)


def test_binary_bits_and_wrap():
    t = N.binary(np.array([0, 1, 2, 5, 6]), 4)
    np.testing.assert_array_equal(t, [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 0]])
    assert set(np.unique(N.binary(np.arange(100), 7))) == {0.0, 1.0}
    p = np.arange(300)
    np.testing.assert_array_equal(N.binary(p + 2**8, 8), N.binary(p, 8))           # wraps past 2**dim
    np.testing.assert_array_equal(N.binary(np.array([-1]), 5), np.ones((1, 5)))     # two's complement
    np.testing.assert_array_equal(N.binary(np.array([-1]), 70), np.ones((1, 70)))
    np.testing.assert_array_equal(N.binary(np.array([2**40]), 70)[0].nonzero()[0], [40])
    # Not smooth: 7 -> 8 flips four bits, 8 -> 9 flips one.
    assert np.abs(N.binary(np.array([8]), 6) - N.binary(np.array([7]), 6)).sum() == 4
    assert np.abs(N.binary(np.array([9]), 6) - N.binary(np.array([8]), 6)).sum() == 1


def test_learned_table_contract():
    table = N.LearnedTable(16, 4, seed=3)
    rows = table(np.arange(16))
    assert rows.shape == (16, 4) and rows.dtype == np.float64
    np.testing.assert_array_equal(N.LearnedTable(16, 4, seed=3)(np.arange(16)), rows)   # deterministic
    assert not np.array_equal(N.LearnedTable(16, 4, seed=4)(np.arange(16)), rows)
    assert abs(rows.std() - 0.02) < 0.01
    for bad in ([16], [0, 16], [-1], [2**40]):
        with pytest.raises(IndexError, match="outside the learned table"):
            table(np.array(bad))
    with pytest.raises(ValueError):
        table.weights[0, 0] = 1.0
    with pytest.raises(ValueError):
        N.LearnedTable(0, 4)
    assert "max_length=16" in repr(table)


@pytest.mark.parametrize("encode", [functools.partial(N.integer, dim=2), functools.partial(N.binary, dim=3),
                                    N.LearnedTable(8, 2)])
def test_encoders_refuse_float_positions(encode):
    with pytest.raises(TypeError):
        encode(np.array([1.0]))


def test_properties_vocabulary():
    assert list(N.PROPERTIES) == ["unique", "bounded", "smooth", "linear_relative_map", "relative_scores",
                                  "extrapolates", "deterministic", "multi_dimensional"]
    for f in (N.integer, N.normalized, N.binary, N.LearnedTable):
        assert "Has:" in f.__doc__ and "Fails:" in f.__doc__


# --- rounding -------------------------------------------------------------------------------

def _nearest_even(v: float, name: str) -> float:
    """Brute force: the nearest of the torch-rounded value and its two neighbours, ties to even."""
    td = getattr(torch, name)
    c = torch.tensor([v], dtype=torch.float64).to(td)
    cands = [c, torch.nextafter(c, torch.tensor([np.inf], dtype=td)), torch.nextafter(c, torch.tensor([-np.inf], dtype=td))]
    key = [(abs(float(x.double()) - v), int(x.view(torch.int16)) & 1) for x in cands]
    return float(cands[min(range(3), key=key.__getitem__)].double())


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_round_to_dtype_is_correctly_rounded(name):
    rng = np.random.default_rng(0)
    mids = (rng.integers(1, 255, 100) * 2 + 1) / 512.0                  # exact 16-bit midpoints
    vals = np.concatenate([rng.standard_normal(300), rng.standard_normal(100) * 1e-6, mids,
                           mids + 2**-45, mids - 2**-45, [1 + 2**-8 + 2**-30, 1 + 2**-11 + 2**-40, 3 * 2**-26]])
    got = N.round_to_dtype(vals, name)
    assert got.dtype == getattr(torch, name)
    np.testing.assert_array_equal(got.double().numpy(), [_nearest_even(v, name) for v in vals])
    # torch's own cast rounds twice here; ours does not.
    assert N.round_to_dtype(np.array([1 + 2**-8 + 2**-30]), "bfloat16").item() == 1 + 2**-7
    assert N.round_to_dtype(np.array([1 + 2**-11 + 2**-40]), "float16").item() == 1 + 2**-10


def test_round_to_dtype_specials():
    vals = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e39, -1e39, 65519.0, 65520.0, 1e-41])
    b = N.round_to_dtype(vals, "bfloat16").double().numpy()
    h = N.round_to_dtype(vals, "float16").double().numpy()
    assert np.signbit(b[1]) and np.signbit(h[1]) and not np.signbit(b[0])
    assert b[2] == h[2] == np.inf and b[3] == h[3] == -np.inf and np.isnan(b[4]) and np.isnan(h[4])
    assert b[5] == np.inf and b[6] == -np.inf
    assert h[7] == 65504.0 and h[8] == np.inf and h[9] == 0.0
    np.testing.assert_array_equal(N.round_to_dtype(vals[:4], "float32").numpy(), vals[:4].astype(np.float32))


# --- uniqueness horizon -----------------------------------------------------------------------

def _brute_horizon(encode, dtype, n):
    rows = N.round_to_dtype(np.asarray(encode(np.arange(n, dtype=np.int64)), dtype=np.float64), dtype).double().numpy()
    seen = set()
    for j, row in enumerate(rows):
        key = tuple(row.tolist())            # 0.0 == -0.0 (and they hash alike): signed zeros identified
        if key in seen:
            return j
        seen.add(key)
    return n


def _planted(dim, pairs, seed=0):
    """Random rows with row j set equal to row i for each (i, j) in pairs."""
    def encode(p):
        rows = np.random.default_rng(seed).standard_normal((int(p.max()) + 1 if p.size else 0, dim))
        for i, j in pairs:
            if j < rows.shape[0]:
                rows[j] = rows[i]
        return rows[p]
    return encode


CASES = {
    "sinusoid d=2": (functools.partial(S.table, dim=2), 2000),
    "sinusoid d=4": (functools.partial(S.table, dim=4), 100_000),
    "t2t d=3 (padded)": (functools.partial(S.table, dim=3, convention="tensor2tensor"), 3000),
    "integer": (functools.partial(N.integer, dim=3), 3000),
    "binary d=11": (functools.partial(N.binary, dim=11), 5000),
    "normalized L=10000": (functools.partial(N.normalized, dim=2, length=10000), 10000),
    "learned": (N.LearnedTable(3000, 2), 3000),
    "planted (within a chunk)": (_planted(8, [(5, 37)]), 500),
    "planted (across chunks)": (_planted(8, [(123, 2500), (10, 3000)]), 4000),
    "none": (_planted(8, []), 3000),
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_horizon_matches_brute_force(case, dtype):
    encode, n = CASES[case]
    if case == "sinusoid d=4" and dtype == "float32":
        n = 5000                                          # no repeat; keep the brute force short
    assert N.uniqueness_horizon(encode, dtype, n) == _brute_horizon(encode, dtype, n)


def test_known_horizons():
    assert N.uniqueness_horizon(functools.partial(N.integer, dim=2), "float16", 10**5) == 2049     # 2049 -> 2048
    assert N.uniqueness_horizon(functools.partial(N.integer, dim=2), "bfloat16", 10**5) == 257
    assert N.uniqueness_horizon(functools.partial(N.binary, dim=10), "float16", 10**5) == 2**10
    assert N.uniqueness_horizon(N.LearnedTable(2000, 4), "bfloat16", 2000) == 2000
    # (sin p, cos p): 710 = 2 * 355 is within 6e-5 of 226 pi, so row 711 repeats row 1 in bfloat16.
    h = N.uniqueness_horizons(functools.partial(S.table, dim=2), ["bfloat16", "float16", "float32"], 2000)
    assert h == {"bfloat16": 711, "float16": 712, "float32": 2000}


def test_horizon_small_chunks_and_runs(monkeypatch):
    # Many tiny chunks exercise the cross-chunk search and the merging of sorted runs.
    monkeypatch.setattr(N, "_FIRST_CHUNK", 7)
    monkeypatch.setattr(N, "_CHUNK_BYTES", 8 * 2 * 13)
    for encode, dtype, n in [(functools.partial(S.table, dim=2), "float16", 2000),
                             (functools.partial(N.binary, dim=9), "bfloat16", 2000),
                             (_planted(8, [(123, 999)]), "float32", 1500)]:
        assert N.uniqueness_horizon(encode, dtype, n) == _brute_horizon(encode, dtype, n)


def test_horizon_survives_hash_collisions(monkeypatch):
    # Every multi-word row hashes alike: the answer must not change, only the time.
    monkeypatch.setattr(N, "_mix", lambda z: np.zeros_like(z))
    monkeypatch.setattr(N, "_FIRST_CHUNK", 64)
    for pairs, n in [([(5, 37)], 200), ([(123, 300)], 400), ([], 300)]:
        encode = _planted(8, pairs)
        assert N.uniqueness_horizon(encode, "float16", n) == _brute_horizon(encode, "float16", n)


def test_horizon_signed_zeros_are_equal():
    rows = np.array([[0.0, 1.0], [-0.0, 1.0], [1e-30, 1.0]])
    encode = lambda p: rows[p]  # noqa: E731
    assert N.uniqueness_horizon(encode, "float32", 3) == 1
    assert N.uniqueness_horizon(lambda p: rows[[0, 2, 1]][p], "float16", 3) == 1     # 1e-30 -> +0 in fp16
    assert N.uniqueness_horizon(lambda p: rows[[0, 2, 1]][p], "float64", 3) == 2


def test_horizon_arguments():
    enc = functools.partial(N.integer, dim=2)
    assert N.uniqueness_horizon(enc, "float16", 0) == 0
    assert N.uniqueness_horizon(enc, "float16", 1) == 1
    assert N.uniqueness_horizon(enc, torch.float16, 3000) == 2049
    assert N.uniqueness_horizon(lambda p: torch.from_numpy(enc(p)).half(), "float32", 3000) == 2049
    with pytest.raises(ValueError):
        N.uniqueness_horizon(enc, "float8", 10)
    with pytest.raises(ValueError):
        N.uniqueness_horizon(enc, "float16", -1)
    with pytest.raises(ValueError, match="one row per position"):
        N.uniqueness_horizon(lambda p: np.zeros(len(p)), "float16", 10)
