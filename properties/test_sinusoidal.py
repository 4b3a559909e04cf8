"""Property tests for sinusoidal tables: the sinusoidal.* clauses and the impl.*/device.* clauses
for implementations without an input tensor (fn(positions) -> [seq, dim])."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from .harness import built_under_bf16_default, environment_calls, property_test
from .rope_case import bitwise_equal, difference, to_f64
from .sinusoidal_case import SinusoidalCase
from .strategies import sinusoidal_examples
from .test_impl import accelerators


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


@property_test("sinusoidal.reference", SinusoidalCase, examples=sinusoidal_examples)
def test_sinusoidal_reference(case: SinusoidalCase) -> None:
    p = case.positions
    y = case.call(p)
    ref = reference_table(case, p)
    err = np.hypot(*np.moveaxis(case.pairs(difference(y, ref)), -1, 0))
    case.measure(err, case.allowed(p), f"the table differs from the {case.convention.name} reference", p)
    padded = sorted(set(range(case.cfg.dim)) - set(case.sin_cols) - set(case.cos_cols))
    if padded and not np.all(to_f64(y)[:, padded] == 0):
        case.fail(f"padding column(s) {padded} are not zero")


def reference_table(case: SinusoidalCase, positions: np.ndarray) -> np.ndarray:
    from pe_spec.sinusoidal import reference

    return reference.table(positions, case.cfg.dim, case.cfg.base, case.convention)


@property_test("sinusoidal.bounded", SinusoidalCase, examples=sinusoidal_examples)
def test_sinusoidal_bounded(case: SinusoidalCase) -> None:
    y = to_f64(case.call(case.positions))
    bad = ~np.isfinite(y) | (np.abs(y) > 1)
    if bad.any():
        s, j = np.argwhere(bad)[0]
        case.fail(f"entry {j} at position {int(case.positions[s])} is {y[s, j]!r}, outside [-1, 1]")


def _offset(draw, ex) -> dict:
    room = ex.config["max_position"] - 1 - max(ex.positions)
    return {"k": draw(st.one_of(st.integers(0, min(room, 16)), st.integers(0, room)), label="k")}


def _offset_examples(impl, dtype):
    return sinusoidal_examples(impl, dtype, extra=_offset, min_seq=2)


@property_test("sinusoidal.linear-offset", SinusoidalCase, examples=_offset_examples)
def test_sinusoidal_linear_offset(case: SinusoidalCase) -> None:
    """The angle from pair k of PE(p) to pair k of PE(p + k) is the same for every p."""
    p, k = case.positions, case.ex.extra["k"]
    a, b = case.pairs(case.call(p)), case.pairs(case.call(p + k))
    # (sin t, cos t) has angle t = atan2(sin, cos): the map's rotation angle per row and pair.
    phi = _wrap(np.arctan2(b[..., 0], b[..., 1]) - np.arctan2(a[..., 0], a[..., 1]))
    e = case.allowed(p) + case.allowed(p + k)
    # A unit vector moved by e < 1 turns by at most arcsin(e) <= (pi/2) e.
    allowed = np.minimum(np.pi / 2 * (e + e[:1]), np.pi)
    case.measure(np.abs(_wrap(phi - phi[:1])), allowed,
                 f"the map PE(p) -> PE(p + {k}) depends on p (rotation angle differs from row 0's)", p)


@property_test("sinusoidal.offset-dot", SinusoidalCase, examples=_offset_examples)
def test_sinusoidal_offset_dot(case: SinusoidalCase) -> None:
    p, k = case.positions, case.ex.extra["k"]
    a, b = case.call(p), case.call(p + k)
    dots = (to_f64(a) * to_f64(b)).sum(-1)
    ea, eb = case.allowed(p), case.allowed(p + k)
    per_row = (ea + eb + ea * eb).sum(-1)
    case.measure(np.abs(difference(dots, np.broadcast_to(dots[:1], dots.shape))), per_row + per_row[:1],
                 f"<PE(p), PE(p + {k})> depends on p (differs from row 0's)", p, per_row=True)


@property_test("sinusoidal.norm", SinusoidalCase, examples=sinusoidal_examples)
def test_sinusoidal_norm(case: SinusoidalCase) -> None:
    p = case.positions
    pairs = case.pairs(case.call(p))
    observed = np.abs(np.hypot(pairs[..., 0], pairs[..., 1]) - 1)
    case.measure(observed, np.full(observed.shape, case.amplitude()), "a (sin, cos) pair does not have norm 1", p)


UNIQUENESS_EXAMPLES = 4
CHUNK = 8192


@property_test("sinusoidal.uniqueness", SinusoidalCase, examples=sinusoidal_examples,
               max_examples=UNIQUENESS_EXAMPLES)
def test_sinusoidal_uniqueness(case: SinusoidalCase) -> None:
    """Builds the implementation's whole served table (0..max_position-1) and looks for equal rows.

    Two positions may share a row only where a correct implementation could produce it: where
    every (sin, cos) pair of their exact encodings is closer than the two positions' allowances
    together (a d=2 table in bf16 repeats by itself). Any other collision is a failure.
    """
    m = case.cfg.max_position
    rows = torch.cat([case.call(np.arange(s, min(s + CHUNK, m))) for s in range(0, m, CHUNK)])
    _, group, counts = np.unique(_row_keys(rows), return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts[group] > 1)          # positions sharing their row with another
    if shared.size == 0:
        return
    exact = case.pairs(reference_table(case, shared))
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
    from pe_spec import outcomes
    outcomes.note(f"the exact encoding itself comes closer than rounding in {case.cfg.dtype} below max_position "
                  f"{m} (dim {case.cfg.dim}): the configuration's uniqueness horizon is below it")


def _row_keys(rows: torch.Tensor) -> np.ndarray:
    """One opaque key per row: equal keys <=> bitwise-equal rows (-0.0 counted as +0.0)."""
    rows = (rows.detach().cpu() + 0.0).contiguous()
    as_bytes = rows.view(torch.uint8).numpy().reshape(rows.shape[0], -1)
    return np.ascontiguousarray(as_bytes).view(np.dtype((np.void, as_bytes.shape[1]))).ravel()


# ---- implementation clauses for tables ----

@property_test("impl.no-mutation#sinusoidal", SinusoidalCase, examples=sinusoidal_examples)
def test_sinusoidal_no_mutation(case: SinusoidalCase) -> None:
    p = case.positions_tensor()
    before = p.clone()
    case.invoke(p)
    if not torch.equal(p, before):
        case.fail("the implementation wrote into its positions tensor")


@property_test("impl.dtype-shape#sinusoidal", SinusoidalCase, examples=sinusoidal_examples)
def test_sinusoidal_dtype_shape(case: SinusoidalCase) -> None:
    y = case.call(case.positions)
    if str(y.dtype).replace("torch.", "") != case.cfg.dtype:
        case.fail(f"output dtype {y.dtype} differs from the requested {case.cfg.dtype}")
    if y.device.type != torch.device(case.cfg.device).type:
        case.fail(f"output device {y.device} differs from the requested {case.cfg.device}")


@property_test("impl.determinism#sinusoidal", SinusoidalCase, examples=sinusoidal_examples)
def test_sinusoidal_determinism(case: SinusoidalCase) -> None:
    first = case.call(case.positions).clone()
    case.call(np.arange(min(case.cfg.max_position, 64)))   # may grow a cache
    if not bitwise_equal(first, case.call(case.positions)):
        case.fail("two calls with the same positions returned different tables")


@property_test("impl.environment#sinusoidal", SinusoidalCase, examples=sinusoidal_examples)
def test_sinusoidal_environment(case: SinusoidalCase) -> None:
    """Built under a bf16 default dtype, called twice as in impl.environment: a prefill at
    0..max(drawn) (or the drawn positions), then the drawn positions."""
    fn = built_under_bf16_default(case)
    for label, p in environment_calls(case.positions):
        y = case.call(p, fn=fn)
        err = np.hypot(*np.moveaxis(case.pairs(difference(y, reference_table(case, p))), -1, 0))
        case.measure(err, case.allowed(p), f"built under torch.set_default_dtype(bfloat16), {label} leaves the "
                                           "tolerance model", p)


def _has_accelerator(impl) -> str | None:
    from .test_impl import _has_accelerator as rope_rule

    return rope_rule(impl)


@property_test("device.agreement#sinusoidal", SinusoidalCase, examples=sinusoidal_examples,
               applies=_has_accelerator)
def test_sinusoidal_device_agreement(case: SinusoidalCase) -> None:
    from dataclasses import replace

    p = case.positions
    ref = reference_table(case, p)
    for dev in accelerators():
        fn = case.impl.factory(replace(case.cfg, device=dev))
        y = case.call(p, fn=fn)
        if y.device.type != torch.device(dev).type:
            case.fail(f"asked for {dev}, the table came back on {y.device}")
        err = np.hypot(*np.moveaxis(case.pairs(difference(y, ref)), -1, 0))
        case.measure(err, case.allowed(p), f"on {dev} the table leaves the tolerance model", p)
