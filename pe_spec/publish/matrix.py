"""The property matrix: which desirable property each position encoding has, decided by running checks.

Rows are the naive encodings of the usual story (integer position, normalized position, binary,
learned table: float64 references from ``pe_spec.spec.naive``), then every registered family
whose publish module provides a ``matrix_encoding`` (in registry order); columns are
``pe_spec.spec.naive.PROPERTIES``. Every cell is the outcome of one check function (``CHECKS``)
run on the row's reference, never a typed-in verdict: a failure carries a concrete
counterexample, a pass says what was checked.

    python -m pe_spec.publish.matrix        print the matrix and every cell's evidence

One ``Encoding`` interface covers all rows: ``encode(positions, length)`` gives one float64 row
per position (``length`` is the length of the sequence the positions belong to: only the
normalized encoding reads it), ``score(p, q, length)`` the attention score between a query at p
and a key at q. For the absolute encodings the row is PE(p) and the score <PE(p), PE(q)>.

An encoding whose row and score are something else says so in its ``Notation``, which is also how
the evidence writes them.

Positions probed (``TRAIN_LENGTH`` = L = 64 plays the training length; every row has DIM = 16
channels):
  training   0..L-1 in a sequence of length L (uniqueness also over shorter sequences of
             lengths ``TRAIN_CONTEXTS``, so that an encoding whose value depends on the length
             is caught);
  beyond     L..4L-1 and windows c-3..c+3 around c = 2**8, 2**9, ..., 2**30 and up to
             2**31 - 1 (the references' exact range), as one sequence of length 2**31.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from pe_spec.publish import hooks
from pe_spec.spec import clauses

__all__ = ["DIM", "TRAIN_LENGTH", "TRAIN_CONTEXTS", "FAR_LENGTH", "OFFSETS", "SCORE_OFFSETS", "NAIVE_ROWS",
           "PROPERTY_ORDER", "PROPERTY_TITLES", "Notation", "Encoding", "Outcome", "Cell", "Check", "CHECKS",
           "Matrix", "rows", "make_encoding", "make_encoding_2d", "dot_score", "training_positions",
           "beyond_positions", "try_encode", "defined", "cell", "compute"]

DIM = 16
TRAIN_LENGTH = 64
TRAIN_CONTEXTS = (8, 16, 32, 64)
FAR_LENGTH = 2**31                         # beyond-L probes sit in one sequence this long
WINDOW = 3                                 # far windows c-3..c+3
FAR_CENTRES = tuple(2**k for k in range(8, 31)) + (2**31 - 1 - WINDOW,)
OFFSETS = (1, 3)                           # offsets k of the linear relative map
SCORE_OFFSETS = (1, 3, -1, -3)             # offsets q - p of the relative-score check
SMOOTH_STEPS = (1, 2, 3)                   # distances must increase over these offsets
GRID = 8                                   # the 2-D check's grid is GRID x GRID
GRID_OFFSETS = ((1, 0), (0, 1), (3, 2), (-2, 1))
BOUND_GROWTH = 2.0                         # bounded: max |entry| anywhere <= this x max on [0, L)
LINEAR_RTOL = 1e-8                         # relative residual allowed of the fitted M(k)
SCORE_RTOL = 1e-9                          # spread of scores at one offset, relative to |PE(p)| |PE(q)|
NORM_RTOL = 1e-9                           # norms beyond L within the training range, relative
SEED = 0

PROPERTY_ORDER = ("unique", "bounded", "smooth", "linear_relative_map", "relative_scores",
                  "extrapolates", "deterministic", "multi_dimensional")
NAIVE_ROWS = ("integer", "normalized", "binary", "learned_table")
PROPERTY_TITLES = {
    "unique": "unique per position", "bounded": "bounded", "smooth": "smooth in position",
    "linear_relative_map": "linear relative map", "relative_scores": "scores depend only on the offset",
    "extrapolates": "generalizes past the training length", "deterministic": "deterministic",
    "multi_dimensional": "extends to several dimensions",
}


# --------------------------------------------------------------------------------------------
# the encodings

@dataclass(frozen=True)
class Notation:
    """How the evidence writes an encoding's row at p and its score between p and q."""

    row: str = "PE({p})"
    score: str = "<PE({p}), PE({q})>"
    explanation: str = ""      # what row and score are, where they are not PE(p) and <PE(p), PE(q)>


@dataclass(frozen=True)
class Encoding:
    """One row of the matrix: how to encode positions and how to score a query against a key.

    encode(positions int64[n] (or [n, 2] on a grid), length) -> float64 [n, width]
    score(query_positions, key_positions, length) -> float64 [n]
    ``length`` is the length of the sequence (per axis on a grid) the positions belong to.
    """

    key: str
    name: str
    definition: str
    encode: Callable[[np.ndarray, int], np.ndarray]
    score: Callable[[np.ndarray, np.ndarray, int], np.ndarray]
    uses_length: bool = False
    axes: int = 1
    clauses: Mapping[str, str] = field(default_factory=dict)   # property -> clause ID deciding it
    score_scale: Callable[[np.ndarray, np.ndarray, int], np.ndarray] | None = None
    """Cauchy-Schwarz bound of each score (default ||encode(p)|| ||encode(q)||)."""
    notation: Notation = Notation()
    heatmap: Callable[[np.ndarray], np.ndarray] | None = None
    """What the docs' heatmap draws at positions 0..n-1, [n, DIM] (default: encode in a sequence of length n)."""
    heatmap_note: str = ""     # the heatmap caption's word on it, where it is not encode

    def scale(self, p: np.ndarray, q: np.ndarray, length: int) -> np.ndarray:
        if self.score_scale is not None:
            return self.score_scale(p, q, length)
        return np.linalg.norm(self.encode(p, length), axis=1) * np.linalg.norm(self.encode(q, length), axis=1)


def dot_score(encode: Callable[[np.ndarray, int], np.ndarray]) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    """The score of an absolute encoding: <PE(p), PE(q)>."""
    def score(p, q, length):
        return np.einsum("nd,nd->n", encode(p, length), encode(q, length))
    return score


def _naive_encoding(key: str, dim: int, seed: int) -> Encoding:
    from pe_spec.spec import naive as N

    if key == "integer":
        enc = lambda p, n: N.integer(p, dim)                       # noqa: E731
        return Encoding(key, "integer", "PE(p) = (p, ..., p)", enc, dot_score(enc))
    if key == "normalized":
        enc = lambda p, n: N.normalized(p, dim, n)                 # noqa: E731
        return Encoding(key, "normalized", "PE(p) = (p/L, ..., p/L), L the sequence length", enc,
                        dot_score(enc), uses_length=True)
    if key == "binary":
        enc = lambda p, n: N.binary(p, dim)                        # noqa: E731
        return Encoding(key, "binary", f"PE(p)_k = bit k of p ({dim} bits)", enc, dot_score(enc))
    if key == "learned_table":
        table = N.LearnedTable(TRAIN_LENGTH, dim, seed=seed)
        enc = lambda p, n: table(p)                                # noqa: E731
        return Encoding(key, "learned table", f"{table!r}: row p of a table learned for positions "
                        f"0..{TRAIN_LENGTH - 1}", enc, dot_score(enc))
    raise KeyError(key)


def _family_hooks(name: str) -> dict[str, Callable[[int, int], Encoding]]:
    """family name -> its publish module's hook ``name`` (matrix_encoding, matrix_encoding_2d)."""
    return {f.name: build for f, build in hooks.providers(name)}


def rows() -> tuple[str, ...]:
    """The matrix's rows: the naive encodings, then each family with a matrix encoding."""
    return NAIVE_ROWS + tuple(_family_hooks("matrix_encoding"))


def make_encoding(key: str, dim: int = DIM, *, seed: int = SEED) -> Encoding:
    """A fresh Encoding for row ``key`` (the learned table's weights are drawn from ``seed``)."""
    if key in NAIVE_ROWS:
        return _naive_encoding(key, dim, seed)
    build = _family_hooks("matrix_encoding").get(key)
    if build is None:
        raise ValueError(f"unknown encoding {key!r}; expected one of {', '.join(rows())}")
    enc = build(dim, seed)
    if enc.key != key:
        raise ValueError(f"the {key} family's matrix_encoding returned an Encoding keyed {enc.key!r}")
    return enc


def make_encoding_2d(key: str, dim: int = DIM, *, seed: int = SEED) -> Encoding:
    """The 2-D construction of row ``key``, positions [n, 2] = (x, y), ``dim`` channels in all.

    A family's own construction (its ``matrix_encoding_2d``) where it has one; otherwise
    PE(x, y) = concat(PE_x(x), PE_y(y)), each axis a dim/2-channel encoding of the same kind (the
    learned table: one table per axis, seeds ``seed`` and ``seed + 1``).
    """
    own = _family_hooks("matrix_encoding_2d").get(key)
    if own is not None:
        return own(dim, seed)
    half = dim // 2
    ax, ay = make_encoding(key, half, seed=seed), make_encoding(key, half, seed=seed + 1)

    def enc(xy, n):
        xy = np.asarray(xy)
        return np.concatenate([ax.encode(xy[:, 0], n), ay.encode(xy[:, 1], n)], axis=-1)

    return Encoding(key, f"{ax.name} (2-D)", f"concat(PE_x(x), PE_y(y)), {half} channels per axis", enc,
                    dot_score(enc), uses_length=ax.uses_length, axes=2, notation=ax.notation)


# --------------------------------------------------------------------------------------------
# probe positions and small helpers

def training_positions() -> np.ndarray:
    return np.arange(TRAIN_LENGTH, dtype=np.int64)


def beyond_positions() -> np.ndarray:
    near = np.arange(TRAIN_LENGTH, 4 * TRAIN_LENGTH, dtype=np.int64)
    far = np.concatenate([np.arange(c - WINDOW, c + WINDOW + 1) for c in FAR_CENTRES]).astype(np.int64)
    return np.unique(np.concatenate([near, far]))


def _far_centres_inside() -> np.ndarray:
    return np.array(FAR_CENTRES, dtype=np.int64)


@dataclass(frozen=True)
class Outcome:
    """What a check found: whether the property holds, and the evidence (counterexample or what was checked)."""

    holds: bool
    evidence: str


def _n(v: float) -> str:
    """3 significant digits; small exact integers in full (stable across platforms: no last-bit digits)."""
    v = float(v)
    if v == int(v) and abs(v) < 1e7:
        return str(int(v))
    return f"{v:.3g}"


ROUNDOFF_REPORT = 1e-12


def _small(v: float) -> str:
    """A rounding-level quantity as a bound ('< 1e-12'), so the docs do not depend on the platform's last bits."""
    return f"< {ROUNDOFF_REPORT:g}" if v < ROUNDOFF_REPORT else f"{v:.2g}"


def _p(pos) -> str:
    """A position (int or (x, y)) as text; 2**31 - 1 and powers of two stay readable as integers."""
    a = np.atleast_1d(np.asarray(pos))
    return str(int(a[0])) if a.size == 1 else "(" + ", ".join(str(int(v)) for v in a) + ")"


def _row(v: np.ndarray, k: int = 4) -> str:
    v = np.ravel(v)
    body = ", ".join(_n(x) for x in v[:k])
    return f"({body}{', ...' if v.size > k else ''})"


def _pe(enc: Encoding, pos, length: int | None = None) -> str:
    """'PE(5)' or, for a length-dependent encoding, 'PE(5) in a sequence of length 10'."""
    s = enc.notation.row.format(p=_p(pos))
    if enc.uses_length and length is not None:
        s += f" in a sequence of length {length}"
    return s


def _score(enc: Encoding, p, q) -> str:
    """'<PE(3), PE(0)>', or the encoding's own notation for its score."""
    return enc.notation.score.format(p=_p(p), q=_p(q))


def try_encode(enc: Encoding, positions: np.ndarray, length: int) -> tuple[np.ndarray | None, str | None]:
    """(rows, None), or (None, 'IndexError: ...') where the encoding does not define a position."""
    try:
        return enc.encode(positions, length), None
    except (IndexError, ValueError) as e:
        return None, f"{type(e).__name__}: {e}"


def defined(enc: Encoding, positions: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(the positions the encoding accepts, their rows)."""
    encoded, err = try_encode(enc, positions, length)
    if err is None:
        return positions, encoded
    ok = [p for p in positions if try_encode(enc, np.array([p]), length)[1] is None]
    ok = np.array(ok, dtype=np.int64)
    return ok, (enc.encode(ok, length) if ok.size else np.zeros((0, 0)))


def _index(positions: np.ndarray) -> dict:
    return {tuple(np.atleast_1d(p).tolist()): i for i, p in enumerate(positions)}


def _shifted(positions: np.ndarray, k) -> tuple[np.ndarray, np.ndarray]:
    """(p, p + k) for every probed p whose p + k is also probed (k an int, or a vector on a grid)."""
    idx = _index(positions)
    target = positions + np.asarray(k)
    keep = [i for i, t in enumerate(target) if tuple(np.atleast_1d(t).tolist()) in idx]
    return positions[keep], target[keep]


# --------------------------------------------------------------------------------------------
# the property checks (one function per property; the docs quote their docstrings)

def check_unique(enc: Encoding, contexts: list[tuple[np.ndarray, int]]) -> Outcome:
    """Unique per position: no two different positions get bitwise-equal float64 encodings.

    Encodes every probed position in every context (positions, sequence length) and looks for
    two rows that are equal although their positions differ; the same position in two contexts
    is not a collision (that is a question of meaning, see 'generalizes'). Float64 is the
    exact-arithmetic question; per dtype the answer is the uniqueness horizon (table below).
    """
    rows, labels = [], []
    for pos, length in contexts:
        rows.append(enc.encode(pos, length))
        labels += [(tuple(np.atleast_1d(p).tolist()), length) for p in pos]
    X = np.concatenate(rows) + 0.0                       # -0.0 counts as 0.0
    seen: dict[bytes, int] = {}
    for i, r in enumerate(X):
        key = r.tobytes()
        j = seen.get(key)
        if j is not None and labels[j][0] != labels[i][0]:
            (pa, na), (pb, nb) = labels[j], labels[i]
            return Outcome(False, f"{_pe(enc, pa, na)} and {_pe(enc, pb, nb)} are both {_row(r)}")
        seen.setdefault(key, i)
    # distinct: report the closest two positions (the first pair within 1e-9 of the minimum, so
    # that ties such as the equal neighbour distances of a sinusoid do not depend on last bits)
    pos_of = np.array([hash(l[0]) for l in labels])
    D = np.empty((len(X), len(X)))
    for s in range(0, len(X), 256):
        D[s:s + 256] = np.sqrt(((X[s:s + 256, None, :] - X[None, :, :]) ** 2).sum(-1))
    D[pos_of[:, None] == pos_of[None, :]] = np.inf
    best = float(D.min())
    i, j = map(int, np.argwhere(D <= best * (1 + 1e-9))[0])
    where = (labels[i], labels[j])
    npos = len({l[0] for l in labels})
    ctx = "" if not enc.uses_length else f" in sequences of lengths {sorted({l[1] for l in labels})}"
    return Outcome(True, f"{npos} positions{ctx}: all encodings distinct in float64; closest pair "
                         f"{_p(where[0][0])}, {_p(where[1][0])} at distance {best:.3g}")


def check_bounded(enc: Encoding, train: np.ndarray, beyond: np.ndarray) -> Outcome:
    """Bounded: the largest |entry| over every probe the encoding defines (up to 2**31 - 1) is at most
    BOUND_GROWTH = 2 times the largest over the training positions [0, L).

    An unbounded encoding grows with the position (by a factor of about 2**31 / L here); a bounded
    one has a fixed interval, which the first L positions already come close to filling. An
    encoding undefined past L (a learned table) is judged on the positions it defines.
    """
    t = np.abs(enc.encode(train, TRAIN_LENGTH))
    b_train = float(t.max())
    allpos = np.concatenate([train, beyond])
    ok, rows = defined(enc, allpos, FAR_LENGTH)
    a = np.abs(rows)
    i = int(np.argmax(a.max(axis=1)))
    b_all = float(a.max())
    where = f"over {ok.size} of {allpos.size} probes (it defines only positions {int(ok.min())}..{int(ok.max())})" \
        if ok.size < allpos.size else f"over {allpos.size} probes up to {int(allpos.max())}"
    if b_all <= BOUND_GROWTH * b_train:
        return Outcome(True, f"max |entry| {where} is {b_all:.3g}, over [0, {TRAIN_LENGTH}) {b_train:.3g} "
                             f"(ratio {b_all / b_train:.3g} <= {BOUND_GROWTH:g})")
    return Outcome(False, f"max |entry| is {_n(b_train)} over [0, {TRAIN_LENGTH}) but {_n(b_all)} at "
                          f"p = {int(ok[i])}: it grows with the position")


def check_smooth(enc: Encoding, centres: np.ndarray, length: int) -> Outcome:
    """Smooth in position: nearer positions have nearer encodings, locally and everywhere:
    ||PE(p +- 1) - PE(p)|| < ||PE(p +- 2) - PE(p)|| < ||PE(p +- 3) - PE(p)|| at every probed p.

    For a sinusoid (and RoPE) the squared distance at offset k is sum_i 4 sin^2(k w_i / 2) (times
    |u_i|^2), increasing in k while k w_i <= pi, i.e. for k <= 3 since w_i <= 1: a discrete
    statement of continuity in p. A bit pattern or an unrelated table row can be nearer to a
    farther position. Strict inequalities in float64, relative margin 1e-12.
    """
    pos = np.unique(np.concatenate([centres + s for s in range(-max(SMOOTH_STEPS), max(SMOOTH_STEPS) + 1)]))
    pos = pos[(pos >= 0) & (pos < length)]
    X = enc.encode(pos, length)
    rows = {int(p): X[i] for i, p in enumerate(pos)}
    checked, worst = 0, None
    for c in centres:
        for sign in (1, -1):
            ks = [k for k in SMOOTH_STEPS if int(c) + sign * k in rows]
            if len(ks) < len(SMOOTH_STEPS):
                continue
            d = [float(np.linalg.norm(rows[int(c) + sign * k] - rows[int(c)])) for k in ks]
            checked += 1
            for (k1, d1), (k2, d2) in zip(zip(ks, d), zip(ks[1:], d[1:])):
                ratio = d1 / max(d2, 1e-300)
                if not d1 < d2 * (1 - 1e-12) and (worst is None or ratio > worst[0]):
                    worst = (ratio, int(c), int(c) + sign * k1, d1, int(c) + sign * k2, d2)
    if worst is None:
        return Outcome(True, f"at {checked} (p, direction) probes: distance to p +- 1 < to p +- 2 < to p +- 3")
    _, c, a, d1, b, d2 = worst
    return Outcome(False, f"{_pe(enc, c)} is nearer to {_pe(enc, b)} (distance {d2:.3g}) than to "
                          f"{_pe(enc, a)} (distance {d1:.3g})")


def _fit_linear(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """M minimising ||Y - X M^T|| (least squares), returned as M^T."""
    Mt, *_ = np.linalg.lstsq(X, Y, rcond=None)
    return Mt


def check_linear_relative_map(enc: Encoding, positions: np.ndarray, length: int) -> Outcome:
    """Linear relative map: for each offset k in OFFSETS = (1, 3), one matrix M(k) (fitted by least
    squares over all probed p with p + k probed) sends PE(p) to PE(p + k) at every p, with
    relative residual ||PE(p+k) - M(k) PE(p)|| / ||PE(p+k)|| <= 1e-8.

    The least-squares M(k) is the best single linear map, so a residual above tolerance means no
    linear map works for all p (sinusoids: M(k) = blockdiag of rotations by k w_i; RoPE:
    R(p + k) u = R(k) R(p) u).
    """
    worst, witness, count = 0.0, None, 0
    for k in OFFSETS:
        p, q = _shifted(positions, k)
        X, Y = enc.encode(p, length), enc.encode(q, length)
        count += len(p)
        zero = np.flatnonzero((np.abs(X).max(axis=1) == 0) & (np.abs(Y).max(axis=1) > 0))
        if zero.size:
            i = int(zero[0])
            return Outcome(False, f"{_pe(enc, p[i], length)} = 0 but {_pe(enc, q[i], length)} = {_row(Y[i])}: "
                                  f"no linear map sends 0 to a nonzero vector (offset {k})")
        res = np.linalg.norm(Y - X @ _fit_linear(X, Y), axis=1) / np.maximum(np.linalg.norm(Y, axis=1), 1e-300)
        i = int(np.argmax(res))
        if res[i] > worst:
            worst, witness = float(res[i]), (k, p[i], q[i])
    if worst <= LINEAR_RTOL:
        return Outcome(True, f"one M(k) for k in {OFFSETS} over {count} pairs (p, p + k): max relative "
                             f"residual {_small(worst)} (tolerance {LINEAR_RTOL:g})")
    k, a, b = witness
    return Outcome(False, f"the best single M({k}) (least squares) leaves relative residual {worst:.2g} at "
                          f"p = {_p(a)}: {_pe(enc, b)} is not a fixed linear map of {_pe(enc, a)}")


def check_relative_scores(enc: Encoding, positions: np.ndarray, length: int,
                          offsets: tuple = SCORE_OFFSETS) -> Outcome:
    """Depends only on the relative offset: the attention score s(p, p + k) is the same at every
    probed p, for each offset k in SCORE_OFFSETS = (1, 3, -1, -3), within 1e-9 of the
    Cauchy-Schwarz scale ||PE(p)|| ||PE(p + k)||.

    Absolute encodings: s(p, q) = <PE(p), PE(q)> (sinusoids: sum_i cos(k w_i)). RoPE:
    s(p, q) = <R(p) q_vec, R(q) k_vec> = q_vec^T R((q - p) w) k_vec for a fixed random query and key.
    """
    worst, witness, count = 0.0, None, 0
    for k in offsets:
        p, q = _shifted(positions, k)
        s = enc.score(p, q, length)
        scale = max(float(np.max(enc.scale(p, q, length))), 1e-300)
        count += len(p)
        i, j = int(np.argmin(s)), int(np.argmax(s))
        spread = float(s[j] - s[i]) / scale
        if spread > worst:
            worst, witness = spread, (k, p[i], q[i], s[i], p[j], q[j], s[j])
    if worst <= SCORE_RTOL:
        return Outcome(True, f"s(p, p + k) for k in {offsets} over {count} pairs: spread {_small(worst)} "
                             f"of the Cauchy-Schwarz bound (tolerance {SCORE_RTOL:g})")
    k, a, b, sa, c, d, sc = witness
    return Outcome(False, f"at the same offset {k}, {_score(enc, a, b)} = {_n(sa)} but {_score(enc, c, d)} = {_n(sc)}")


def check_deterministic(key: str, train: np.ndarray, beyond: np.ndarray) -> Outcome:
    """Deterministic: two independent constructions of the encoding (``make_encoding``, the learned
    table re-drawn from its seed), each called twice, give bitwise-equal rows and scores at every
    probe they define.

    Within one process; "run after run" is covered because nothing but the seed enters.
    """
    allpos = np.concatenate([train, beyond])
    outs = []
    for _ in range(2):
        enc = make_encoding(key)
        ok, _ = defined(enc, allpos, FAR_LENGTH)
        for _ in range(2):
            outs.append((enc.encode(ok, FAR_LENGTH), enc.score(ok[:-1], ok[1:], FAR_LENGTH)))
    same = all(np.array_equal(o[0], outs[0][0]) and np.array_equal(o[1], outs[0][1]) for o in outs[1:])
    if same:
        return Outcome(True, f"2 constructions x 2 calls at {ok.size} positions: rows and scores bitwise equal")
    return Outcome(False, "two calls with the same positions returned different rows")


_SAME_PROPERTIES = ("unique", "smooth", "linear_relative_map", "relative_scores")


def _training_outcome(prop: str, enc: Encoding) -> Outcome:
    train = training_positions()
    if prop == "unique":
        return check_unique(enc, [(np.arange(n, dtype=np.int64), n) for n in TRAIN_CONTEXTS])
    if prop == "smooth":
        return check_smooth(enc, train, TRAIN_LENGTH)
    if prop == "linear_relative_map":
        return check_linear_relative_map(enc, train, TRAIN_LENGTH)
    if prop == "relative_scores":
        return check_relative_scores(enc, train, TRAIN_LENGTH)
    raise KeyError(prop)


def _extended_outcome(prop: str, enc: Encoding) -> Outcome:
    allpos = np.concatenate([training_positions(), beyond_positions()])
    if prop == "unique":
        return check_unique(enc, [(allpos, FAR_LENGTH)])
    if prop == "smooth":
        return check_smooth(enc, _far_centres_inside(), FAR_LENGTH)
    if prop == "linear_relative_map":
        return check_linear_relative_map(enc, allpos, FAR_LENGTH)
    if prop == "relative_scores":
        return check_relative_scores(enc, allpos, FAR_LENGTH)
    raise KeyError(prop)


def check_extrapolates(key: str) -> Outcome:
    """Generalizes past the training length L: at the beyond-L probes (L..4L-1 and windows up to
    2**31 - 1, in one sequence of length 2**31) the encoding
    (a) is defined (no exception);
    (b) keeps its meaning: each training position's row is the same in a sequence of length L,
        2L and 2**31;
    (c) keeps its scale: every row's norm lies within the range of norms seen on [0, L)
        (relative tolerance 1e-9): no magnitudes the model never saw;
    (d) keeps its other properties: each of unique, smooth, linear relative map and relative
        scores that holds on [0, L) still holds on the training and beyond-L probes together
        (smooth: at the far windows).
    """
    enc = make_encoding(key)
    train, beyond = training_positions(), beyond_positions()
    rows, err = try_encode(enc, beyond, FAR_LENGTH)
    if err is not None:
        first = next(int(p) for p in beyond if try_encode(enc, np.array([p]), FAR_LENGTH)[1] is not None)
        _, msg = try_encode(enc, np.array([first]), FAR_LENGTH)
        return Outcome(False, f"{_pe(enc, first)} raises {msg}")
    failures = []
    base = enc.encode(train, TRAIN_LENGTH)
    for n in (2 * TRAIN_LENGTH, FAR_LENGTH):
        other = enc.encode(train, n)
        diff = np.abs(other - base).max(axis=1)
        if diff.max() > 0:
            i = int(np.argmax(diff))
            failures.append(f"{_pe(enc, train[i])} is {_n(base[i, 0])} in a sequence of length {TRAIN_LENGTH} "
                            f"but {_n(other[i, 0])} in one of length {n}: its meaning depends on the length")
            break
    broken = []
    for prop in _SAME_PROPERTIES:
        if _training_outcome(prop, enc).holds:
            out = _extended_outcome(prop, enc)
            if not out.holds:
                broken.append(f"{prop.replace('_', ' ')} breaks: {out.evidence}")
    failures += broken[:1]
    norms_t = np.linalg.norm(base, axis=1)
    norms_b = np.linalg.norm(rows, axis=1)
    lo, hi = norms_t.min() * (1 - NORM_RTOL), norms_t.max() * (1 + NORM_RTOL)
    out_of = np.flatnonzero((norms_b < lo) | (norms_b > hi))
    if out_of.size:
        i = int(out_of[np.argmax(np.abs(norms_b[out_of] - norms_t.mean()))])
        failures.append(f"||{_pe(enc, beyond[i])}|| = {_n(norms_b[i])}, outside the norms {_n(norms_t.min())}.."
                        f"{_n(norms_t.max())} seen on [0, {TRAIN_LENGTH})")
    failures += broken[1:]
    if failures:
        return Outcome(False, "; ".join(failures))
    kept = [p.replace("_", " ") for p in _SAME_PROPERTIES if _training_outcome(p, enc).holds]
    return Outcome(True, f"defined at {beyond.size} probes from {TRAIN_LENGTH} to {int(beyond.max())}; "
                         f"rows independent of the sequence length; norms within the training range; "
                         f"still {', '.join(kept)} there")


def check_multi_dimensional(key: str) -> Outcome:
    """Extends to several dimensions: the 2-D construction (``make_encoding_2d``: per-axis encodings
    of dim/2 channels concatenated; RoPE rotating half the pairs by x and half by y) on the
    GRID x GRID = 8 x 8 grid, in a sequence of extent 8 per axis,
    (a) is unique: the 64 grid points have pairwise-distinct encodings (``check_unique``);
    (b) if the 1-D scores depend only on the offset, the 2-D scores depend only on (dx, dy):
        s((x, y), (x + dx, y + dy)) is the same at every grid point, for (dx, dy) in
        GRID_OFFSETS (``check_relative_scores``).
    """
    enc2 = make_encoding_2d(key)
    xs, ys = np.meshgrid(np.arange(GRID), np.arange(GRID), indexing="ij")
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.int64)
    u = check_unique(enc2, [(grid, GRID)])
    if not u.holds:
        return Outcome(False, f"on the {GRID}x{GRID} grid: {u.evidence}")
    msg = f"{enc2.definition}: the {GRID * GRID} points of the {GRID}x{GRID} grid have distinct encodings"
    if _training_outcome("relative_scores", make_encoding(key)).holds:
        r = check_relative_scores(enc2, grid, GRID, offsets=GRID_OFFSETS)
        if not r.holds:
            return Outcome(False, f"2-D scores are not offset-only: {r.evidence}")
        return Outcome(True, msg + f"; scores for (dx, dy) in {list(GRID_OFFSETS)} depend on the offset only: "
                                   f"{r.evidence.split(': ', 1)[-1]}")
    return Outcome(True, msg + " (1-D scores are not offset-only, so 2-D ones are not required to be)")


# --------------------------------------------------------------------------------------------
# the matrix

@dataclass(frozen=True)
class Check:
    prop: str
    fn: Callable[[str], Outcome]
    doc_fn: Callable       # the function whose docstring defines the check


def _run_unique(key: str) -> Outcome:
    return _training_outcome("unique", make_encoding(key))


def _run_bounded(key: str) -> Outcome:
    return check_bounded(make_encoding(key), training_positions(), beyond_positions())


def _run_smooth(key: str) -> Outcome:
    return _training_outcome("smooth", make_encoding(key))


def _run_linear(key: str) -> Outcome:
    return _training_outcome("linear_relative_map", make_encoding(key))


def _run_scores(key: str) -> Outcome:
    return _training_outcome("relative_scores", make_encoding(key))


def _run_deterministic(key: str) -> Outcome:
    return check_deterministic(key, training_positions(), beyond_positions())


CHECKS: dict[str, Check] = {
    "unique": Check("unique", _run_unique, check_unique),
    "bounded": Check("bounded", _run_bounded, check_bounded),
    "smooth": Check("smooth", _run_smooth, check_smooth),
    "linear_relative_map": Check("linear_relative_map", _run_linear, check_linear_relative_map),
    "relative_scores": Check("relative_scores", _run_scores, check_relative_scores),
    "extrapolates": Check("extrapolates", check_extrapolates, check_extrapolates),
    "deterministic": Check("deterministic", _run_deterministic, check_deterministic),
    "multi_dimensional": Check("multi_dimensional", check_multi_dimensional, check_multi_dimensional),
}
"""Property -> its check. Properties other than bounded, extrapolates, deterministic and
multi_dimensional are decided on the training positions (uniqueness over sequences of lengths
TRAIN_CONTEXTS); 'extrapolates' reruns them past L."""


def check_anchor(prop: str) -> str:
    """The anchor of a property's check description on docs/property-matrix.md."""
    return "check-" + prop.replace("_", "-")


@dataclass(frozen=True)
class Cell:
    row: str
    prop: str
    verdict: str          # "holds" | "fails"
    evidence: str
    link: str             # the deciding clause ID, else "#check-<property>"
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"


def cell(row: str, prop: str) -> Cell:
    """Run one property check on one row's reference encoding."""
    t0 = time.perf_counter()
    out = CHECKS[prop].fn(row)
    clause = make_encoding(row).clauses.get(prop)
    if clause is not None and clause not in clauses.ids():
        raise RuntimeError(f"matrix cell ({row}, {prop}) cites unknown clause {clause!r}")
    return Cell(row, prop, "holds" if out.holds else "fails", f"{row}: {out.evidence}",
                clause or "#" + check_anchor(prop), time.perf_counter() - t0)


@dataclass(frozen=True)
class Matrix:
    rows: tuple[str, ...]
    props: tuple[str, ...]
    cells: dict[tuple[str, str], Cell]
    encodings: dict[str, Encoding]
    seconds: float

    def verdicts(self) -> dict[str, dict[str, str]]:
        return {r: {p: self.cells[r, p].verdict for p in self.props} for r in self.rows}


def compute(keys: tuple[str, ...] | None = None, props: tuple[str, ...] = PROPERTY_ORDER) -> Matrix:
    """Run every check on every row (a few seconds); ``keys`` default to ``rows()``."""
    keys = rows() if keys is None else tuple(keys)
    t0 = time.perf_counter()
    cells = {(r, p): cell(r, p) for r in keys for p in props}
    return Matrix(keys, tuple(props), cells, {r: make_encoding(r) for r in keys}, time.perf_counter() - t0)


def _main() -> int:
    m = compute()
    width = max(len(p) for p in m.props)
    print("row".ljust(14) + " ".join(p[:width].ljust(width) for p in m.props))
    for r in m.rows:
        print(r.ljust(14) + " ".join(m.cells[r, p].verdict.ljust(width) for p in m.props))
    print(f"\n{len(m.cells)} cells in {m.seconds:.2f} s\n")
    for (r, p), c in m.cells.items():
        print(f"[{c.verdict}] {p} ({c.link}, {c.seconds:.2f} s): {c.evidence}")
    return 0


if __name__ == "__main__":
    # Run the imported module's copy, the one family publish modules build their Encodings from.
    from pe_spec.publish.matrix import _main as main

    raise SystemExit(main())
