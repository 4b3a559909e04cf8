"""The seed position encodings, as references, and the uniqueness horizon of any encoding.

The usual story runs integer position -> normalized position -> binary -> learned table ->
sinusoids (Vaswani et al. 2017) -> RoPE; each step repairs a flaw of the one before. These are
the steps before the sinusoid, written down exactly so that the property checks can decide
which of the desirable properties (``PROPERTIES``) each one has, instead of prose asserting it.
Every encoder takes integer positions (any shape; 1-D gives [len(positions), dim]) and returns
float64 values, shape positions.shape + (dim,). Each docstring says which properties hold,
which fail, and why; the property matrix in the docs is produced by running the checks, never
copied from these docstrings.

``uniqueness_horizon`` measures, for any encoder, the largest L such that every position below L
is distinguishable from every other after rounding to a dtype.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from pe_spec.spec import dtypes as _dtypes

__all__ = ["PROPERTIES", "integer", "normalized", "binary", "LearnedTable",
           "round_to_dtype", "uniqueness_horizon", "uniqueness_horizons"]

PROPERTIES: dict[str, str] = {
    "unique": "every position maps to an encoding distinct from every other position's",
    "bounded": "every entry stays within a fixed interval whatever the position",
    "smooth": "nearby positions have nearby encodings (a small change in p is a small change in PE)",
    "linear_relative_map": "for each offset k one linear map M(k), the same at every p, sends PE(p) to PE(p + k)",
    "relative_scores": "<PE(p), PE(q)> depends on q - p only, so attention scores see relative offsets",
    "extrapolates": "defined, and of the same character, at positions beyond those seen in training",
    "deterministic": "the same position gives the same encoding, call after call and run after run",
    "multi_dimensional": "extends to positions with several coordinates (image rows and columns, time and space)",
}


def _dtype_name(dtype) -> str:
    """'float16' for 'float16', torch.float16 or np.float16; ValueError for anything else."""
    try:
        return _dtypes.check_name(_dtypes.name_of(dtype))
    except TypeError:
        raise ValueError(f"unknown dtype {dtype!r}; pe-spec knows {', '.join(_dtypes.UNIT_ROUNDOFF)}") from None


def _int_positions(positions) -> np.ndarray:
    p = np.asarray(positions)
    if not (np.issubdtype(p.dtype, np.integer) and p.dtype != np.bool_):
        raise TypeError(f"positions must be integers, got dtype {p.dtype}")
    return p.astype(np.int64)


def _check_dim(dim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    return int(dim)


def integer(positions, dim: int) -> np.ndarray:
    """PE(p) = (p, p, ..., p): the raw position in every channel.

    Has:   unique (in exact arithmetic; in a dtype only while integers are exact: float16 2049
           and bfloat16 257 round to 2048 and 256, horizons 2049 and 257, float32 2**24 + 1);
           smooth (linear in p); deterministic; multi_dimensional (one coordinate per axis).
    Fails: bounded (grows without limit and swamps the token embedding at long context);
           linear_relative_map (PE(p + k) = PE(p) + k*1 is a translation, not a linear map: no
           M sends PE(0) = 0 to PE(k) != 0); relative_scores (<PE(p), PE(q)> = d*p*q);
           extrapolates (positions past training produce magnitudes never seen).
    """
    p = _int_positions(positions).astype(np.float64)
    return np.repeat(p[..., None], _check_dim(dim), axis=-1)


def normalized(positions, dim: int, length: int) -> np.ndarray:
    """PE(p) = (p/L, ..., p/L) for a sequence of length L, 0 <= p < L (ValueError otherwise).

    Has:   bounded ([0, 1)); smooth (step 1/L); unique within one sequence (until rounding:
           neighbours differ by 1/L, which a dtype stops resolving once 1/L is below its spacing
           near 1); deterministic for a given L; multi_dimensional (p_i / L_i per axis).
    Fails: the encoding is not a function of the position: position 5 is 5/10 in a sequence of
           10 and 5/10000 in one of 10000, while 0.5 means position 5 or 5000; so no
           extrapolates (a longer sequence rescales every position the model learned) and no
           uniqueness across lengths; linear_relative_map (affine, and L-dependent);
           relative_scores (<PE(p), PE(q)> = d*p*q/L**2).
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    p = _int_positions(positions)
    if p.size and (int(p.min()) < 0 or int(p.max()) >= length):
        raise ValueError(f"normalized positions need 0 <= p < length = {length}, got "
                         f"[{int(p.min())}, {int(p.max())}]: p/L is only defined inside a sequence of length L")
    return np.repeat((p.astype(np.float64) / float(length))[..., None], _check_dim(dim), axis=-1)


def binary(positions, dim: int) -> np.ndarray:
    """PE(p)_k = bit k of p as 0.0 or 1.0, least significant bit in column 0.

    0/1, not +-1: this is literally p written in base 2 (column k is a square wave of period
    2**(k+1), the fastest in column 0, as the sinusoid's fastest pair is pair 0). The +-1 form
    2b - 1 is an affine image of it and decides the same properties, except that its norm is
    constant. Negative positions use two's complement, i.e. the bits of p mod 2**dim.

    Has:   bounded ({0, 1}); deterministic; unique for 0 <= p < 2**dim; multi_dimensional
           (concatenate one bit vector per axis).
    Fails: unique past 2**dim (it WRAPS: p and p + 2**dim are identical); smooth (2**k - 1 ->
           2**k flips k + 1 bits, while 2**k -> 2**k + 1 flips one); linear_relative_map
           (PE(0) = 0, so no linear M gives PE(1) = e_0; carries are not linear);
           relative_scores (<PE(p), PE(q)> = popcount(p AND q)); extrapolates (wraps).
    """
    p = _int_positions(positions)
    d = _check_dim(dim)
    k = np.arange(d)
    shifts = np.minimum(k, 63)          # bits 63 and up of an int64 are copies of the sign
    bits = (p[..., None] >> shifts) & 1
    return bits.astype(np.float64)


class LearnedTable:
    """A learned absolute table, as a contract: rows 0..max_length-1 of a [max_length, dim] table.

    The values stand in for trained weights: ``std`` times standard normals from
    ``numpy.random.default_rng(seed)`` (0.02, the usual initialisation). Only the contract
    matters here: a lookup with a declared maximum length, and an IndexError (not wrap-around,
    not Python's negative indexing) for any position outside [0, max_length).

    Has:   unique (with probability 1 for continuous values; after rounding, checked by
           uniqueness_horizon); bounded (a finite table); deterministic (for a fixed seed: the
           weights are data); multi_dimensional only by a table per axis or one over the whole
           grid (memory grows with the product of the extents).
    Fails: extrapolates (IndexError past max_length: nothing was learned there); smooth
           (nothing relates neighbouring rows: independent at initialisation, whatever training
           happened to make them); linear_relative_map and relative_scores (no structure
           relates rows p and p + k).
    """

    def __init__(self, max_length: int, dim: int, *, seed: int = 0, std: float = 0.02):
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
        self.max_length = int(max_length)
        self.dim = _check_dim(dim)
        self.seed = int(seed)
        self.std = float(std)
        weights = np.random.default_rng(self.seed).standard_normal((self.max_length, self.dim)) * self.std
        weights.setflags(write=False)
        self.weights = weights

    def __call__(self, positions) -> np.ndarray:
        p = _int_positions(positions)
        if p.size and (int(p.min()) < 0 or int(p.max()) >= self.max_length):
            bad = int(p.min()) if int(p.min()) < 0 else int(p.max())
            raise IndexError(f"position {bad} is outside the learned table [0, {self.max_length}): "
                             "a learned table has no row for it")
        return self.weights[p]

    def __repr__(self) -> str:
        return f"LearnedTable(max_length={self.max_length}, dim={self.dim}, seed={self.seed}, std={self.std})"


# --- rounding to a dtype -----------------------------------------------------------------------

def round_to_dtype(x, dtype: str):
    """x (float64) correctly rounded (to nearest, ties to even) to ``dtype``, as a torch tensor.

    torch's own float64 -> bfloat16/float16 casts go through float32 and so round twice
    (1 + 2**-8 + 2**-30 becomes 1.0 in bfloat16, not 1 + 2**-7). Here float64 is first rounded
    to float32 with round-to-odd (truncate, then set the last bit if inexact), after which the
    float32 -> 16-bit cast is correctly rounded: float32 carries at least two more bits.
    """
    import torch

    name = _dtype_name(dtype)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if name == "float64":
        return torch.from_numpy(x.copy())
    if name == "float32":
        return torch.from_numpy(x.astype(np.float32))
    return torch.from_numpy(_float32_round_to_odd(x)).to(_dtypes.torch_dtype(name))


_BLOCK = 1 << 15


def _float32_round_to_odd(x: np.ndarray) -> np.ndarray:
    """float64 -> float32 rounded to odd: truncate toward zero, set the last bit when inexact.

    Computed from the round-to-nearest cast: where it is inexact and its last bit is even, step
    one ulp to the odd neighbour on the true value's side (bits +- 1 moves the magnitude by one
    ulp whatever the sign; beyond float32's range that is its largest finite value). NaN and inf
    pass unchanged. In cache-sized blocks: several times faster than whole-array temporaries.
    """
    flat = x.reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    bits_all = out.view(np.int32)
    r = np.empty(min(_BLOCK, flat.size))
    with np.errstate(invalid="ignore", over="ignore"):
        for s in range(0, flat.size, _BLOCK):
            xs = flat[s:s + _BLOCK]
            n = xs.size
            f = out[s:s + n]
            np.copyto(f, xs, casting="same_kind")            # round to nearest
            rr = r[:n]
            np.subtract(xs, f, out=rr)                       # exact residual (NaN for inf, NaN)
            bits = bits_all[s:s + n]
            fix = (bits & 1) == 0
            fix &= rr != 0
            fix &= rr == rr
            away = (rr > 0) == (xs > 0)                      # true value further from zero than f
            bits += (away.astype(np.int32) * 2 - 1) * fix
    return out.reshape(x.shape)


_INT_VIEW = {"float64": ("int64", np.uint64), "float32": ("int32", np.uint32),
             "bfloat16": ("int16", np.uint16), "float16": ("int16", np.uint16)}


def _rounded_bits(x: np.ndarray, dtype: str) -> np.ndarray:
    """Rows of x rounded to dtype, as unsigned integers (bit patterns) with -0 identified with +0.

    Two rows that differ only in the sign of a zero are equal as numbers (same dot products,
    same everything downstream), so they count as indistinguishable.
    """
    import torch

    t = round_to_dtype(x, dtype)
    int_name, utype = _INT_VIEW[dtype]
    bits = t.view(getattr(torch, int_name)).numpy().view(utype)
    sign = utype(1) << utype(8 * np.dtype(utype).itemsize - 1)
    return np.where(bits == sign, utype(0), bits)


# --- row keys ----------------------------------------------------------------------------------

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a bijection on uint64 that spreads every input bit over the word."""
    z = z ^ (z >> np.uint64(30))
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def _row_keys(bits: np.ndarray, salts: np.ndarray) -> np.ndarray:
    """One uint64 per row: the row itself when it fits in 8 bytes, else a salted hash of its words."""
    n, m = bits.shape
    per_word = 8 // bits.itemsize
    pad = (-m) % per_word
    if pad:
        bits = np.concatenate([bits, np.zeros((n, pad), dtype=bits.dtype)], axis=1)
    words = np.ascontiguousarray(bits).view(np.uint64)          # (n, ceil(m / per_word))
    if words.shape[1] == 1:
        return words[:, 0].copy()
    return _mix(words ^ salts[:words.shape[1]]).sum(axis=1, dtype=np.uint64)


def _salts(n: int) -> np.ndarray:
    """n fixed pseudo-random uint64 salts (one per word of a row; deterministic)."""
    return np.random.default_rng(0x5EED).integers(0, 2**63, size=max(1, n), dtype=np.int64).view(np.uint64)


def _as_float64(rows) -> np.ndarray:
    if hasattr(rows, "detach"):                                  # a torch tensor
        rows = rows.detach().cpu().double().numpy()
    return np.asarray(rows, dtype=np.float64)


class _Tracker:
    """Sorted runs of the keys seen so far (merged like a binary counter: O(n log n) in all)."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Which of ``keys`` (sorted ascending: searchsorted is then cache-friendly) were seen."""
        hit = np.zeros(keys.shape, dtype=bool)
        for run in self.runs:
            idx = np.searchsorted(run, keys)
            ok = idx < run.size
            hit[ok] |= run[idx[ok]] == keys[ok]
        return hit

    def add(self, keys: np.ndarray) -> None:
        self.runs.append(np.sort(keys))
        while len(self.runs) > 1 and self.runs[-2].size <= 2 * self.runs[-1].size:
            b, a = self.runs.pop(), self.runs.pop()
            self.runs.append(np.sort(np.concatenate([a, b]), kind="stable"))   # a merge of two runs


_CHUNK_BYTES = 32 << 20        # float64 rows per chunk: at most this many bytes
_FIRST_CHUNK = 1024


def uniqueness_horizons(encode: Callable[[np.ndarray], object], dtypes: Iterable[str],
                        max_positions: int) -> dict[str, int]:
    """``uniqueness_horizon`` for several dtypes, encoding each chunk of positions once."""
    names = [_dtype_name(d) for d in dtypes]
    if isinstance(max_positions, bool) or not isinstance(max_positions, (int, np.integer)) or max_positions < 0:
        raise ValueError(f"max_positions must be a non-negative integer, got {max_positions!r}")
    max_positions = int(max_positions)
    result: dict[str, int] = {}
    trackers = {n: _Tracker() for n in names}
    start, rows = 0, _FIRST_CHUNK
    while start < max_positions and len(result) < len(set(names)):
        stop = min(max_positions, start + rows)
        x = _as_float64(encode(np.arange(start, stop, dtype=np.int64)))
        if x.ndim != 2 or x.shape[0] != stop - start:
            raise ValueError(f"encode must return one row per position, shape [n, dim]; got {x.shape} "
                             f"for {stop - start} positions")
        salts = _salts(x.shape[1])
        for name in names:
            if name in result:
                continue
            bits = _rounded_bits(x, name)
            keys = _row_keys(bits, salts)
            found = _first_repeat(encode, name, bits, keys, trackers[name], start, rows)
            if found is not None:
                result[name] = found
            else:
                trackers[name].add(keys)
        start = stop
        # Small chunks first (an early repeat is found fast), then as large as the budget allows.
        cap = max(_FIRST_CHUNK, _CHUNK_BYTES // (8 * max(1, x.shape[1])))
        rows = min(2 * rows, cap)
    return {n: result.get(n, max_positions) for n in names}


def _first_repeat(encode, dtype: str, bits: np.ndarray, keys: np.ndarray, tracker: _Tracker,
                  start: int, chunk_rows: int) -> int | None:
    """Smallest position in this chunk whose rounded row equals an earlier position's, or None."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    same = sk[1:] == sk[:-1]
    within = set(order[1:][same].tolist())                   # an earlier row in this chunk has the key
    earlier = set(order[tracker.contains(sk)].tolist()) if tracker.runs else set()
    for j in sorted(within | earlier):
        if j in within:
            group = np.flatnonzero(keys[:j] == keys[j])
            if np.any(np.all(bits[group] == bits[j], axis=1)):
                return start + j
        if j in earlier and _seen_before(encode, dtype, bits[j], start, chunk_rows):
            return start + j
    return None


def _seen_before(encode, dtype: str, row: np.ndarray, stop: int, chunk_rows: int) -> bool:
    """Exact check (no hashing) that some position below ``stop`` rounds to ``row``."""
    for s in range(0, stop, chunk_rows):
        b = _rounded_bits(_as_float64(encode(np.arange(s, min(stop, s + chunk_rows), dtype=np.int64))), dtype)
        if np.any(np.all(b == row, axis=1)):
            return True
    return False


def uniqueness_horizon(encode: Callable[[np.ndarray], object], dtype: str, max_positions: int) -> int:
    """The largest L <= max_positions such that positions 0..L-1 all have distinct encodings in ``dtype``.

    ``encode(positions int64[n]) -> [n, dim]`` (numpy or torch, any float dtype; e.g.
    ``functools.partial(sinusoidal.reference.table, dim=64)``). Each row is correctly rounded
    to ``dtype`` (``round_to_dtype``); two positions are indistinguishable when their rounded
    rows are bitwise equal once -0.0 is identified with +0.0. The result is the first position
    whose row repeats an earlier one, or ``max_positions`` when none does (then it is a lower
    bound: the true horizon is at least that).

    Positions are processed in chunks (growing from 1024 rows to a 32 MiB float64 budget), each
    row reduced to a 64-bit key (the row itself if it fits in 8 bytes, else a salted
    splitmix64 hash of its words); keys are kept in sorted runs, so memory is 8 bytes per
    position plus one chunk, and every key match is confirmed by comparing the rows exactly, so
    a hash collision can cost time but never change the answer.
    """
    name = _dtype_name(dtype)
    return uniqueness_horizons(encode, [name], max_positions)[name]
