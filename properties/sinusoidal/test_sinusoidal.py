"""Property tests for sinusoidal tables (fn(positions) -> [seq, dim]): one check per sinusoidal.*
clause. The impl.* and device.* clauses run on tables too, from properties/test_universal.py."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from .. import outcomes
from ..engine import property_test
from ..tensors import difference, to_f64
from .case import SinusoidalCase
from .strategies import examples


def table_test(check_id: str, **kw):
    return property_test(check_id, family="sinusoidal", **kw)


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


@table_test("sinusoidal.reference", examples=examples)
def test_sinusoidal_reference(case: SinusoidalCase) -> None:
    p = case.positions
    y = case.table(p)
    case.measure_pairs(case.pair_distance(y, case.reference_table(p)), case.allowed(p),
                       f"the table differs from the {case.convention.name} reference", p)
    padded = sorted(set(range(case.cfg.dim)) - set(case.sin_cols) - set(case.cos_cols))
    if padded and not np.all(to_f64(y)[:, padded] == 0):
        case.fail(f"padding column(s) {padded} are not zero")


@table_test("sinusoidal.bounded", examples=examples)
def test_sinusoidal_bounded(case: SinusoidalCase) -> None:
    p = with_last_position(case)
    y = to_f64(case.table(p))
    bad = ~np.isfinite(y) | (np.abs(y) > 1)
    if bad.any():
        s, j = np.argwhere(bad)[0]
        case.fail(f"entry {j} at position {int(p[s])}{_edge(case, p[s])} is {y[s, j]!r}, outside [-1, 1]")


def with_last_position(case: SinusoidalCase) -> np.ndarray:
    """The drawn positions and the table's last one, max_position - 1: the edge of the served range,
    where half-precision positions or angles overflow first (float16: 65520 rounds to inf)."""
    return np.append(case.positions, case.cfg.max_position - 1)


def _edge(case: SinusoidalCase, position: int) -> str:
    return " (the table's last position)" if position == case.cfg.max_position - 1 else ""


def _offset(draw, ex) -> dict:
    room = ex.config["max_position"] - 1 - max(ex.positions)
    return {"k": draw(st.one_of(st.integers(0, min(room, 16)), st.integers(0, room)), label="k")}


def _offset_examples(impl, dtype):
    return examples(impl, dtype, extra=_offset, min_seq=2)


@table_test("sinusoidal.linear-offset", examples=_offset_examples)
def test_sinusoidal_linear_offset(case: SinusoidalCase) -> None:
    """The angle from pair k of PE(p) to pair k of PE(p + k) is the same for every p."""
    p, k = case.positions, case.ex.extra["k"]
    a, b = case.pairs(case.table(p)), case.pairs(case.table(p + k))
    # (sin t, cos t) has angle t = atan2(sin, cos): the map's rotation angle per row and pair.
    phi = _wrap(np.arctan2(b[..., 0], b[..., 1]) - np.arctan2(a[..., 0], a[..., 1]))
    e = case.allowed(p) + case.allowed(p + k)
    # A unit vector moved by e < 1 turns by at most arcsin(e) <= (pi/2) e.
    allowed = np.minimum(np.pi / 2 * (e + e[:1]), np.pi)
    case.measure_pairs(np.abs(_wrap(phi - phi[:1])), allowed,
                 f"the map PE(p) -> PE(p + {k}) depends on p (rotation angle differs from row 0's)", p)


@table_test("sinusoidal.offset-dot", examples=_offset_examples)
def test_sinusoidal_offset_dot(case: SinusoidalCase) -> None:
    p, k = case.positions, case.ex.extra["k"]
    a, b = case.table(p), case.table(p + k)
    dots = (to_f64(a) * to_f64(b)).sum(-1)
    ea, eb = case.allowed(p), case.allowed(p + k)
    per_row = (ea + eb + ea * eb).sum(-1)
    case.measure_pairs(np.abs(difference(dots, np.broadcast_to(dots[:1], dots.shape))), per_row + per_row[:1],
                 f"<PE(p), PE(p + {k})> depends on p (differs from row 0's)", p, per_row=True)


@table_test("sinusoidal.norm", examples=examples)
def test_sinusoidal_norm(case: SinusoidalCase) -> None:
    p = with_last_position(case)
    pairs = case.pairs(case.table(p))
    observed = np.abs(np.hypot(pairs[..., 0], pairs[..., 1]) - 1)
    case.measure_pairs(observed, np.full(observed.shape, case.amplitude()), "a (sin, cos) pair does not have norm 1", p)


UNIQUENESS_EXAMPLES = 4
CHUNK = 8192


@table_test("sinusoidal.uniqueness", examples=examples, max_examples=UNIQUENESS_EXAMPLES)
def test_sinusoidal_uniqueness(case: SinusoidalCase) -> None:
    """Builds the implementation's whole served table (0..max_position-1) and looks for equal rows.

    Two positions may share a row only where a correct implementation could produce it: where
    every (sin, cos) pair of their exact encodings is closer than the two positions' allowances
    together (a d=2 table in bf16 repeats by itself). Any other collision is a failure.
    """
    m = case.cfg.max_position
    rows = torch.cat([case.table(np.arange(s, min(s + CHUNK, m))) for s in range(0, m, CHUNK)])
    _, group, counts = np.unique(_row_keys(rows), return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts[group] > 1)          # positions sharing their row with another
    if shared.size == 0:
        return
    exact = case.pairs(case.reference_table(shared))
    allowed = case.allowed(shared)
    for g in np.unique(group[shared]):
        idx = np.flatnonzero(group[shared] == g)
        first, rest = idx[0], idx[1:]
        gap = np.hypot(*np.moveaxis(exact[rest] - exact[first], -1, 0))      # [members - 1, K]
        explained = np.all(gap <= allowed[rest] + allowed[first], axis=-1)
        if not explained.all():
            other = shared[rest[np.argmin(explained)]]
            case.fail(f"positions {int(shared[first])} and {int(other)} have bitwise-equal encodings in "
                      f"{case.cfg.dtype}, although their exact encodings differ by more than the tolerance "
                      f"model allows a correct table to move them (uniqueness horizon <= {int(other)} "
                      f"< max_position {m})")
    outcomes.note(f"the exact encoding itself comes closer than rounding in {case.cfg.dtype} below max_position "
                  f"{m} (dim {case.cfg.dim}): the configuration's uniqueness horizon is below it")


def _row_keys(rows: torch.Tensor) -> np.ndarray:
    """One opaque key per row: equal keys <=> bitwise-equal rows (-0.0 counted as +0.0)."""
    rows = (rows.detach().cpu() + 0.0).contiguous()
    as_bytes = rows.view(torch.uint8).numpy().reshape(rows.shape[0], -1)
    return np.ascontiguousarray(as_bytes).view(np.dtype((np.void, as_bytes.shape[1]))).ravel()
