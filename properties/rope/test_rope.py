"""Property tests for rotary position embeddings: one check per rope.* clause (or variant)."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

from .. import limits, outcomes
from ..engine import property_test
from ..strategies import integer_list, permutation
from ..tensors import difference, to_f64
from .case import RopeCase
from .strategies import examples


def rope_test(check_id: str, **kw):
    return property_test(check_id, family="rope", **kw)


def _shift(draw, ex) -> dict:
    """A second set of key positions and a common shift c keeping every position in range."""
    m = np.asarray(ex.positions)
    hi = ex.config["max_position"] - 1
    n = [int(v) for v in permutation(draw, m.tolist(), "key_positions")]
    lo_c, hi_c = -int(min(m.min(), min(n))), hi - int(max(m.max(), max(n)))
    c = draw(st.one_of(st.sampled_from([lo_c, hi_c, 1, -1]).filter(lambda v: lo_c <= v <= hi_c),
                       st.integers(lo_c, hi_c)), label="shift")
    return {"key_positions": n, "shift": c, "key_seed": draw(st.integers(0, 2**32 - 1), label="key_seed")}


@rope_test("rope.reference", examples=examples)
def test_reference(case: RopeCase) -> None:
    x = case.make_x()
    y = case.rot(x, case.positions)
    case.expect_rotation(y, x, case.positions, "output differs from the float64 reference")


@rope_test("rope.relative-shift", examples=lambda impl, dt: examples(impl, dt, extra=_shift))
def test_relative_shift(case: RopeCase) -> None:
    q, k = case.make_x(), case.make_x(seed=case.ex.extra["key_seed"])
    m, n, c = case.positions, np.asarray(case.ex.extra["key_positions"]), case.ex.extra["shift"]

    def scores(qp, kp):
        rq, rk = case.rot(q, qp), case.rot(k, kp)
        return (to_f64(rq) * to_f64(rk)).sum(-1)

    def score_allowance(qp, kp):
        aq, ak = case.allowed(q, qp), case.allowed(k, kp)
        return (case.pair_norms(q) * ak + case.pair_norms(k) * aq + aq * ak).sum(-1)

    observed = np.abs(difference(scores(m, n), scores(m + c, n + c)))
    allowed = score_allowance(m, n) + score_allowance(m + c, n + c)
    case.measure_pairs(observed, allowed, f"q.k changed when both positions were shifted by {c}", m, per_row=True)


@rope_test("rope.norm", examples=examples)
def test_norm(case: RopeCase) -> None:
    x = case.make_x()
    y = case.rot(x, case.positions)
    observed = np.abs(case.pair_norms(y) - case.pair_norms(x))
    case.measure_pairs(observed, case.allowed(x, case.positions, include_phase=False),
                 "a rotated pair changed its norm", case.positions)


@rope_test("rope.zero", examples=examples)
def test_zero(case: RopeCase) -> None:
    x = case.make_x()
    zeros = np.zeros_like(case.positions)
    y = case.rot(x, zeros)
    case.expect_rotation(y, x, zeros, "rope(x, 0) is not x")


def _second_positions(draw, ex) -> dict:
    room = ex.config["max_position"] - 1 - max(ex.positions)
    return {"second_positions": integer_list(draw, len(ex.positions), 0, room, "second_positions", near=64)}


@rope_test("rope.composition", examples=lambda impl, dt: examples(impl, dt, extra=_second_positions))
def test_composition(case: RopeCase) -> None:
    x = case.make_x()
    a, b = case.positions, np.asarray(case.ex.extra["second_positions"], dtype=np.int64)
    ya = case.rot(x, a)
    yab = case.rot(ya, b)
    direct = case.rot(x, a + b)
    observed = case.pair_norms(difference(yab, direct))
    allowed = case.allowed(x, a) + case.allowed(ya, b) + case.allowed(x, a + b)
    case.measure_pairs(observed, allowed, "rope(rope(x, a), b) differs from rope(x, a + b)", a + b)


def _partial_rotary(impl) -> str | None:
    dims = impl.get("rotary_dims")
    if dims is not None and all(d == 1.0 for d in dims):
        return f"not applicable: {impl.name} declares full rotary only (rotary_dims={dims})"
    return None


@rope_test("rope.pass-through", examples=examples, applies=_partial_rotary)
def test_pass_through(case: RopeCase) -> None:
    assume(case.cfg.rotary_dim < case.cfg.head_dim)
    x = case.make_x()
    y = case.rot(x, case.positions)
    r = case.cfg.rotary_dim
    diff = np.abs(to_f64(y[..., r:]) - to_f64(x[..., r:]))
    diff = np.where(np.isnan(diff), np.inf, diff)
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
    if not torch.equal(y[..., r:], x[..., r:]):
        case.fail(f"channel {r + idx[-1]} (beyond rotary_dim={r}) changed",
                  observed=float(diff[idx]), allowed=0.0, where=f"index {tuple(int(i) for i in idx)}")


def _coefficients(draw, ex) -> dict:
    pick = st.sampled_from([1.0, -1.0, 0.5, 2.0, -3.0, 0.25])
    return {"a": draw(pick, label="a"), "b": draw(pick, label="b"),
            "second_seed": draw(st.integers(0, 2**32 - 1), label="second_seed")}


@rope_test("rope.linearity", examples=lambda impl, dt: examples(impl, dt, extra=_coefficients))
def test_linearity(case: RopeCase) -> None:
    a, b = case.ex.extra["a"], case.ex.extra["b"]
    x1, x2 = case.make_x(), case.make_x(seed=case.ex.extra["second_seed"])
    exact = a * to_f64(x1) + b * to_f64(x2)
    x3 = torch.from_numpy(exact).to(case.dtype).to(case.device)   # rounding this input is part of the budget
    p = case.positions
    lhs = to_f64(case.rot(x3, p))
    rhs = a * to_f64(case.rot(x1, p)) + b * to_f64(case.rot(x2, p))
    observed = case.pair_norms(difference(lhs, rhs))
    allowed = (case.allowed(x3, p) + abs(a) * case.allowed(x1, p) + abs(b) * case.allowed(x2, p)
               + case.pair_norms(to_f64(x3) - exact))
    case.measure_pairs(observed, allowed, f"rope({a} x1 + {b} x2) differs from {a} rope(x1) + {b} rope(x2)", p)


def _autograd(impl) -> str | None:
    if impl.get("autograd") is False:
        return f"not applicable: {impl.name} declares autograd=False"
    return None


def _upstream(draw, ex) -> dict:
    return {"grad_seed": draw(st.integers(0, 2**32 - 1), label="grad_seed")}


@rope_test("rope.gradient", examples=lambda impl, dt: examples(impl, dt, extra=_upstream),
               applies=_autograd)
def test_gradient(case: RopeCase) -> None:
    x = case.make_x().requires_grad_(True)
    y = case.rot(x, case.positions)
    if not y.requires_grad:
        if case.impl.get("autograd") is True:
            case.fail("the kernel declares autograd=True but its output does not require grad")
        raise outcomes.not_verified(f"{case.impl.name} output has no autograd graph "
                                    "(declare autograd=False to mark it inference-only)")
    g = case.make_x(seed=case.ex.extra["grad_seed"])
    try:
        with limits.implementation_call("backward"):   # the kernel's backward: under the time limit too
            (grad,) = torch.autograd.grad(y, x, g.clone())   # a kernel may overwrite its grad_output (Liger L2)
    except Exception as e:
        case.fail(f"backward raised {type(e).__name__}: {e}")
    expected = case.reference(g, -case.positions)      # R(p)^T g = R(-p) g
    case.measure_pairs(case.pair_norms(to_f64(grad) - expected), case.allowed(g, case.positions),
                 "dx is not the inverse rotation R(-p) of the upstream gradient", case.positions)
    r = case.cfg.rotary_dim
    if not torch.equal(grad[..., r:], g[..., r:]):
        case.fail(f"the gradient of the pass-through channels (>= {r}) is not the upstream gradient")


def _split_point(draw, ex) -> dict:
    seq = len(ex.positions)
    return {"split": draw(st.integers(1, seq - 1), label="split"),
            "perm": [int(v) for v in permutation(draw, range(seq), "perm")]}


@rope_test("rope.positions", examples=lambda impl, dt: examples(impl, dt, extra=_split_point, min_seq=2))
def test_positions(case: RopeCase) -> None:
    """A KV-cache suffix, a single decode step and permuted rows each give the rows they hold in
    the full call: each row's rotation follows its own position, not its index."""
    x, p = case.make_x(), case.positions
    full = case.rot(x, case.positions)
    k, perm = case.ex.extra["split"], np.asarray(case.ex.extra["perm"])
    for label, rows in (("a KV-cache suffix (rows k: at their cached offsets)", np.arange(k, len(p))),
                        ("a single decode step (the last row alone)", np.arange(len(p) - 1, len(p))),
                        ("permuted rows with their positions", perm)):
        index = torch.as_tensor(rows)
        xs = x[..., index, :]
        y = case.rot(xs, p[rows])
        # Both calls are correct up to the full allowance, so they agree to twice it.
        case.measure_pairs(case.pair_norms(difference(y, full[..., index, :])), 2 * case.allowed(xs, p[rows]),
                     f"{label}: differs from the same rows of the full call", p[rows])


def _beyond(draw, ex) -> dict:
    """Offsets past max_position, and negative positions: -1 (padding ids), small negative deltas
    and one below -max_position (a table's far end, then past it)."""
    m = ex.config["max_position"]
    below = draw(st.lists(st.one_of(st.integers(-8, -1), st.integers(-2 * m, -m)), min_size=1, max_size=3),
                 label="below")
    return {"beyond": draw(st.lists(st.integers(0, 4096), min_size=1, max_size=4), label="beyond"),
            "below": sorted({-1, *below}, reverse=True)}


def _correct_or_raises(case: RopeCase, positions: np.ndarray, where: str) -> None:
    """Outside the served range a kernel may raise; what it returns must be the rotation."""
    if max(abs(int(positions.max())), abs(int(positions.min()))) >= 2**31 - 1:
        return
    xb = case.make_x(seq=len(positions))
    try:
        y = case.invoke((xb, case.positions_tensor(positions)))
    except Exception:
        return  # raising outside the served range is conformant
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != tuple(xb.shape):
        case.fail(f"at positions {positions.tolist()} ({where}) the kernel neither raised nor returned a tensor "
                  "shaped like x")
    wrapped, m = "", case.cfg.max_position
    if -m <= positions.min() and positions.max() < 0:   # what Python-style indexing of a table returns
        served = positions + m
        err = case.pair_norms(to_f64(y) - case.reference(xb, served))
        if np.all(err <= case.allowed(xb, served)):
            wrapped = (f" (it returned the rotation of positions {served.tolist()}: negative ids wrapped to the far "
                       f"end of a {m}-row table, Python-style)")
    case.expect_rotation(y, xb, positions, f"at positions {positions.tolist()} ({where}) the kernel returned wrong "
                                           f"values instead of raising (a wrapped or clamped cache){wrapped}")


@rope_test("rope.cache-coverage", examples=lambda impl, dt: examples(impl, dt, extra=_beyond))
def test_cache_coverage(case: RopeCase) -> None:
    top = case.cfg.max_position - 1
    edge = np.array([top, top, max(top - 1, 0), 0] + list(case.positions[:2]), dtype=np.int64)
    x = case.make_x(seq=len(edge))
    case.expect_rotation(case.rot(x, edge), x, edge,
                          f"at positions {edge.tolist()} (both ends of the cache, 0 and max_position - 1 = {top}) "
                          "the output is wrong")
    _correct_or_raises(case, np.array([case.cfg.max_position + b for b in case.ex.extra["beyond"]], dtype=np.int64),
                       f"past max_position = {case.cfg.max_position}")
    below = np.asarray(case.ex.extra["below"], dtype=np.int64)
    m = case.cfg.max_position
    for group in (below[below >= -m], below[below < -m]):   # apart: a raise for one must not hide the other
        if group.size:
            _correct_or_raises(case, group, "below 0")
