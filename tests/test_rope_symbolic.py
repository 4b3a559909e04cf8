"""The RoPE derivations are proven, the checker refutes wrong ones, and the symbolic matrices
are the same maps as the float64 reference."""
from __future__ import annotations

import numpy as np
import pytest

sympy = pytest.importorskip("sympy")
pytest.importorskip("mpmath")

from pe_spec.spec import symbolic as S  # noqa: E402
from pe_spec.families.rope.conventions import interleaved_to_half  # noqa: E402
from pe_spec.families.rope import reference  # noqa: E402
from pe_spec.families.rope import symbolic as rs  # noqa: E402
from pe_spec.spec.symbolic import Outcome, prove_equal, prove_zero  # noqa: E402


# --- every derivation is proven ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(rs.DERIVATIONS))
def test_derivation_is_proven(name):
    verdict = prove_zero(rs.DERIVATIONS[name]())
    assert verdict.outcome is Outcome.PROVEN, f"{name}: {verdict}"
    assert verdict


def test_derivations_cover_the_cited_names():
    expected = {"norm_preservation", "relative_rotation", "relative_score", "composition",
                "zero_identity", "complex_equivalence", "layout_conjugation", "inverse_rotation",
                "frequency_schedule", "long_term_decay_identity"}
    assert set(rs.DERIVATIONS) == expected
    for f in rs.DERIVATIONS.values():
        assert isinstance(f(), (sympy.Expr, sympy.MatrixBase))


@pytest.mark.parametrize("npairs", [1, 3])
def test_derivations_hold_for_other_sizes(npairs):
    for f in (rs.norm_preservation, rs.relative_rotation, rs.relative_score, rs.composition,
              rs.inverse_rotation, rs.layout_conjugation, rs.long_term_decay_identity):
        verdict = prove_zero(f(npairs))
        assert verdict.outcome is Outcome.PROVEN, f"{f.__name__}({npairs}): {verdict}"


# --- wrong identities are refuted with a counterexample ---------------------------------------

def _a_b(n=2):
    return sympy.symbols(f"a0:{n}", real=True), sympy.symbols(f"b0:{n}", real=True)


def _clockwise(t):
    return sympy.Matrix([[sympy.cos(t), sympy.sin(t)], [-sympy.sin(t), sympy.cos(t)]])


def _wrong_identities():
    a, b = _a_b()
    d = sympy.Symbol("d", integer=True, positive=True, even=True)
    base = sympy.Symbol("base", positive=True)
    i = sympy.Symbol("i", integer=True, nonnegative=True)
    t = sympy.symbols("t0:3", real=True)
    perm = interleaved_to_half(6)          # for d = 4 the permutation is an involution: use d = 6
    P = sympy.Matrix(6, 6, lambda r, c: int(perm[r] == c))
    return {
        "composition with a - b": rs.rotation_matrix(a) * rs.rotation_matrix(b)
        - rs.rotation_matrix([x - y for x, y in zip(a, b)]),
        "clockwise vs counter-clockwise": _clockwise(a[0]) - rs.rotation_block(a[0]),
        "'i/d' exponent": base ** (-(i + 1) / d) / base ** (-i / d) - base ** (sympy.Integer(-2) / d),
        "layouts equal without the permutation": rs.rotation_matrix(a) - rs.rotation_matrix_half(a),
        "half layout conjugated the wrong way": P.T * rs.rotation_matrix(t) * P - rs.rotation_matrix_half(t),
    }


@pytest.mark.parametrize("name", sorted(_wrong_identities()))
def test_wrong_identity_is_refuted(name):
    expr = _wrong_identities()[name]
    verdict = prove_zero(expr)
    assert verdict.outcome is Outcome.REFUTED, f"{name}: {verdict}"
    assert not verdict
    assert verdict.counterexample and verdict.residual > 1e-20
    # Independent check: the expression is visibly nonzero at the reported point.
    subs = {s: verdict.counterexample[s.name] for s in expr.free_symbols}
    value = sympy.Matrix([expr]) if not isinstance(expr, sympy.MatrixBase) else expr
    assert max(abs(complex(v.evalf(30, subs=subs))) for v in value) > 1e-10, str(verdict)
    assert str(verdict).startswith("REFUTED")


def test_clockwise_rotation_is_still_a_rotation_group():
    # A clockwise kernel satisfies composition too: that clause alone cannot catch orientation.
    a, b = sympy.symbols("a b", real=True)
    assert prove_equal(_clockwise(a) * _clockwise(b), _clockwise(a + b))


def test_refutation_is_deterministic():
    expr = _wrong_identities()["composition with a - b"]
    assert prove_zero(expr, seed=3) == prove_zero(expr, seed=3)


# --- true but not simplifiable: UNDECIDED or PROVEN, never REFUTED -----------------------------

def _hard_true_identities():
    x = sympy.Symbol("x", real=True)
    pi = sympy.pi
    return {
        # Gauss: the seventh-root-of-unity sum; no route here reduces it to 0.
        "cos(pi/7) - cos(2pi/7) + cos(3pi/7) = 1/2":
            sympy.cos(pi / 7) - sympy.cos(2 * pi / 7) + sympy.cos(3 * pi / 7) - sympy.Rational(1, 2),
        "atan(x) + atan(1/x) = sign(x) pi/2": sympy.atan(x) + sympy.atan(1 / x) - sympy.sign(x) * pi / 2,
        "gamma reflection": sympy.gamma(x) * sympy.gamma(1 - x) - pi / sympy.sin(pi * x),
    }


@pytest.mark.parametrize("name", sorted(_hard_true_identities()))
def test_true_identity_is_never_refuted(name):
    verdict = prove_zero(_hard_true_identities()[name])
    assert verdict.outcome in (Outcome.UNDECIDED, Outcome.PROVEN), f"{name}: {verdict}"
    assert bool(verdict) == (verdict.outcome is Outcome.PROVEN)


def test_undecided_is_reached_and_is_falsy():
    verdict = prove_zero(_hard_true_identities()["cos(pi/7) - cos(2pi/7) + cos(3pi/7) = 1/2"])
    assert verdict.outcome is Outcome.UNDECIDED, str(verdict)
    assert not verdict and verdict.counterexample is None and verdict.residual < 1e-40


@pytest.mark.parametrize("name", ["relative_score", "norm_preservation", "composition"])
def test_numeric_path_alone_gives_undecided(monkeypatch, name):
    # Without algebra the true RoPE identities, sampled at positions up to 2**31 - 1 with heavy
    # cancellation, must come out numerically consistent, not refuted and not proven.
    monkeypatch.setattr(S, "_CHEAP_ROUTES", [])
    monkeypatch.setattr(S, "_EXPENSIVE_ROUTES", [])
    verdict = prove_zero(rs.DERIVATIONS[name]())
    assert verdict.outcome is Outcome.UNDECIDED, str(verdict)
    assert not verdict


def test_integer_samples_reach_long_context_positions():
    m = sympy.Symbol("m", integer=True, positive=True)
    verdict = prove_zero(m - 2**20, samples=40)     # refuted unless m == 2**20 at every point
    assert verdict.outcome is Outcome.REFUTED and verdict.counterexample["m"] > 0


# --- the symbolic matrices are the reference's maps -------------------------------------------

def _numeric_rotation(builder, rotary_dim):
    t = sympy.symbols(f"t0:{rotary_dim // 2}", real=True)
    f = sympy.lambdify(t, builder(t), modules="numpy")
    # Evaluate with scalar angles, so constant (zero) entries cannot break broadcasting.
    return lambda angles: np.asarray(f(*[float(v) for v in angles]), dtype=np.float64)


@pytest.mark.parametrize("layout,builder", [("interleaved", rs.rotation_matrix),
                                            ("half", rs.rotation_matrix_half)])
@pytest.mark.parametrize("rotary_dim,head_dim", [(2, 2), (8, 8), (8, 12)])
def test_symbolic_matrix_matches_reference(layout, builder, rotary_dim, head_dim):
    rng = np.random.default_rng(0)
    positions = np.array([0, 1, 7, 2**11 + 1, 2**20 + 7, -5])
    x = rng.standard_normal((len(positions), head_dim))
    y = reference.apply(x, positions, rotary_dim=rotary_dim, base=10000.0, layout=layout)
    R = _numeric_rotation(builder, rotary_dim)
    theta = reference.angles(positions, rotary_dim, 10000.0)
    for s in range(len(positions)):
        np.testing.assert_allclose(R(theta[s]) @ x[s, :rotary_dim], y[s, :rotary_dim], rtol=0, atol=1e-14)
    np.testing.assert_array_equal(y[:, rotary_dim:], x[:, rotary_dim:])


def test_layout_conjugation_orientation_matches_reference():
    rotary_dim = 6
    perm = interleaved_to_half(rotary_dim)
    P = np.eye(rotary_dim)[perm]                     # (P x) == x[perm]
    R_int = _numeric_rotation(rs.rotation_matrix, rotary_dim)
    R_half = _numeric_rotation(rs.rotation_matrix_half, rotary_dim)
    theta = reference.angles(np.array([3]), rotary_dim, 100.0)[0]
    np.testing.assert_allclose(P @ R_int(theta) @ P.T, R_half(theta), atol=0)
    x = np.random.default_rng(1).standard_normal((1, rotary_dim))
    lhs = reference.apply(x, np.array([3]), rotary_dim=rotary_dim, base=100.0, layout="interleaved")[:, perm]
    rhs = reference.apply(x[:, perm], np.array([3]), rotary_dim=rotary_dim, base=100.0, layout="half")
    np.testing.assert_array_equal(lhs, rhs)
    np.testing.assert_allclose(P @ R_int(theta) @ x[0], rhs[0], atol=1e-15)


def test_complex_form_matches_reference():
    x = np.array([[0.3, -1.7]])
    theta = reference.angles(np.array([12345]), 2, 10000.0)[0, 0]
    z = (x[0, 0] + 1j * x[0, 1]) * np.exp(1j * theta)
    y = reference.apply(x, np.array([12345]), rotary_dim=2, base=10000.0, layout="interleaved")
    np.testing.assert_allclose([z.real, z.imag], y[0], atol=1e-15)


def test_frequency_schedule_matches_reference():
    d = sympy.Symbol("d", integer=True, positive=True, even=True)
    base = sympy.Symbol("base", positive=True)
    i = sympy.Symbol("i", integer=True, nonnegative=True)
    theta = base ** (-2 * i / d)
    for rotary_dim, b in [(8, 10000.0), (64, 500000.0)]:
        w = reference.inverse_frequencies(rotary_dim, b)
        got = [float(theta.subs({d: rotary_dim, base: b, i: j}).evalf(30)) for j in range(rotary_dim // 2)]
        np.testing.assert_allclose(w, got, rtol=1e-15)
    assert prove_zero(rs.frequency_schedule(8))


# --- long-term decay ---------------------------------------------------------------------------

@pytest.mark.parametrize("rotary_dim,base", [(128, 10000.0), (64, 10000.0), (128, 500000.0), (8, 10000.0)])
def test_long_term_decay_bound(rotary_dim, base):
    r = np.arange(0, 201)
    bound = rs.long_term_decay_bound(r, rotary_dim, base)
    assert bound.shape == r.shape and bound.dtype == np.float64
    half = rotary_dim // 2
    # At r = 0 every S_j = j, so the mean of |S_j| is (d/2 + 1)/2 (it is 1 only for d = 2).
    assert bound[0] == pytest.approx((half + 1) / 2, rel=1e-15)
    assert np.all(bound <= bound[0] * (1 + 1e-12))
    assert bound[100:201].mean() < bound[0:11].mean()          # decays on average
    np.testing.assert_allclose(rs.long_term_decay_bound(-r, rotary_dim, base), bound, rtol=1e-12)

    theta = reference.inverse_frequencies(rotary_dim, base)
    phases = np.exp(1j * r[:, None] * theta)
    # |S_{d/2}| is one of the averaged terms, so |sum_i e^{i r theta_i}| / (d/2) <= bound.
    assert np.all(np.abs(phases.sum(-1)) / half <= bound * (1 + 1e-12))
    # The Abel bound itself: |sum_i h_i e^{i r theta_i}| <= max_i |h_{i+1} - h_i| * sum_j |S_j|.
    rng = np.random.default_rng(0)
    for _ in range(5):
        h = np.append(rng.standard_normal(half) + 1j * rng.standard_normal(half), 0.0)   # h_{d/2} = 0
        lhs = np.abs(phases @ h[:-1])
        rhs = np.abs(np.diff(h)).max() * half * bound
        assert np.all(lhs <= rhs * (1 + 1e-12) + 1e-12)


def test_long_term_decay_bound_d2_is_constant():
    r = np.arange(-50, 51)
    np.testing.assert_allclose(rs.long_term_decay_bound(r, 2, 10000.0), 1.0, rtol=1e-15)
