"""The sinusoidal derivations are proven, wrong readings are refuted, and the symbolic objects are
the float64 reference's maps."""
from __future__ import annotations

import math

import numpy as np
import pytest

sympy = pytest.importorskip("sympy")
pytest.importorskip("mpmath")

from pe_spec.families.sinusoidal import reference as R  # noqa: E402
from pe_spec.families.sinusoidal import symbolic as ss  # noqa: E402
from pe_spec.spec.symbolic import Outcome, prove_zero  # noqa: E402


# --- every derivation is proven ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ss.DERIVATIONS))
def test_derivation_is_proven(name):
    verdict = prove_zero(ss.DERIVATIONS[name]())
    assert verdict.outcome is Outcome.PROVEN, f"{name}: {verdict}"
    assert verdict


def test_derivations_cover_the_cited_names():
    expected = {"linear_offset", "linear_offset_concat", "offset_matrix_is_rotation", "offset_composition",
                "offset_dot_product", "dot_product_even", "constant_norm", "wavelength_progression",
                "wavelength_progression_t2t", "vaswani_wavelength_limit"}
    assert set(ss.DERIVATIONS) == expected
    for f in ss.DERIVATIONS.values():
        assert isinstance(f(), (sympy.Expr, sympy.MatrixBase))


@pytest.mark.parametrize("npairs", [1, 4])
def test_derivations_hold_for_other_sizes(npairs):
    for f in (ss.linear_offset, ss.linear_offset_concat, ss.offset_matrix_is_rotation, ss.offset_composition,
              ss.offset_dot_product, ss.dot_product_even, ss.constant_norm):
        verdict = prove_zero(f(npairs))
        assert verdict.outcome is Outcome.PROVEN, f"{f.__name__}({npairs}): {verdict}"


def test_offset_matrix_is_free_of_the_position():
    p, k = sympy.symbols("p k", integer=True)
    w = sympy.symbols("w0:3", positive=True)
    for layout in ("interleaved", "concat"):
        M = ss.offset_matrix(k, w, layout)
        assert p not in M.free_symbols and k in M.free_symbols
        # The stated form: [[cos kw, sin kw], [-sin kw, cos kw]] on each (sin, cos) pair.
    M = ss.offset_matrix(k, w[:1])
    assert M == sympy.Matrix([[sympy.cos(k * w[0]), sympy.sin(k * w[0])],
                              [-sympy.sin(k * w[0]), sympy.cos(k * w[0])]])


def test_paper_wavelength_claim():
    # "from 2 pi to 10000 * 2 pi": exact for the tensor2tensor frequencies, false for the paper's own.
    assert prove_zero(ss.paper_wavelength_claim("t2t"))
    verdict = prove_zero(ss.paper_wavelength_claim("vaswani"))
    assert verdict.outcome is Outcome.REFUTED, str(verdict)
    lam, K, base, m = ss.wavelengths("vaswani")
    ratio = sympy.simplify(lam(K - 1) / (2 * sympy.pi * base))
    assert prove_zero(ratio - base ** (-1 / m)), ratio          # = base**(-2/d), d = 2K


# --- wrong identities are refuted with a counterexample ---------------------------------------

def _rope_orientation(angle):
    return sympy.Matrix([[sympy.cos(angle), -sympy.sin(angle)], [sympy.sin(angle), sympy.cos(angle)]])


def _wrong_identities():
    p, k = sympy.symbols("p k", integer=True)
    w = sympy.symbols("w0:2", positive=True)
    base = sympy.Symbol("base", positive=True)
    d = sympy.Symbol("d", integer=True, positive=True, even=True)
    i = sympy.Symbol("i", integer=True, nonnegative=True)
    M_rope = sympy.diag(*[_rope_orientation(k * x) for x in w])
    return {
        # RoPE's counter-clockwise block applied to (sin, cos): the orientation is the other one.
        "RoPE orientation on (sin, cos) pairs": ss.encoding(p + k, w) - M_rope * ss.encoding(p, w),
        # The interleaved M(k) applied to a [sin | cos] vector.
        "interleaved M on the concat layout": ss.encoding(p + k, w, "concat")
        - ss.offset_matrix(k, w, "interleaved") * ss.encoding(p, w, "concat"),
        # A sin(k w) term would make the score odd in k (direction-aware): there is none.
        "dot product with sin(k w)": ss.encoding(p, w).dot(ss.encoding(p + k, w)) - sum(sympy.sin(k * x) for x in w),
        "norm d instead of d/2": ss.encoding(p, w).dot(ss.encoding(p, w)) - 2 * len(w),
        # The 'i/d' misreading of the exponent: ratio base**(-1/d) per pair, not base**(-2/d).
        "'i/d' exponent": base ** (-(i + 1) / d) / base ** (-i / d) - base ** (sympy.Integer(-2) / d),
        "Vaswani ends at 2 pi base": ss.paper_wavelength_claim("vaswani"),
    }


@pytest.mark.parametrize("name", sorted(_wrong_identities()))
def test_wrong_identity_is_refuted(name):
    expr = _wrong_identities()[name]
    verdict = prove_zero(expr)
    assert verdict.outcome is Outcome.REFUTED, f"{name}: {verdict}"
    assert not verdict and verdict.counterexample
    subs = {s: verdict.counterexample[s.name] for s in expr.free_symbols}
    value = expr if isinstance(expr, sympy.MatrixBase) else sympy.Matrix([expr])
    assert max(abs(complex(v.evalf(30, subs=subs))) for v in value) > 1e-10, str(verdict)


# --- the symbolic objects are the reference's maps --------------------------------------------

def _numeric(expr, syms):
    f = sympy.lambdify(syms, expr, modules="numpy")
    return lambda *vals: np.asarray(f(*[float(v) for v in vals]), dtype=np.float64)


@pytest.mark.parametrize("name", ["vaswani", "concat", "tensor2tensor", "whisper"])
def test_symbolic_encoding_matches_reference(name):
    conv = R.CONVENTIONS[name]
    dim, base = 8, 10000.0
    K = dim // 2
    q = sympy.Symbol("q", integer=True)
    w = sympy.symbols(f"w0:{K}", positive=True)
    enc = _numeric(ss.encoding(q, w, conv.layout), (q, *w))
    freqs = R.frequencies(dim, base, name)
    for p in (0, 1, 7, 999):
        np.testing.assert_allclose(enc(p, *freqs).ravel(), R.table(np.array([p]), dim, base, name)[0],
                                   atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["vaswani", "concat", "tensor2tensor", "fairseq"])
def test_offset_matrix_maps_reference_rows(name):
    # M(k) PE(p) = PE(p + k) at long-context positions, with M built from the symbolic form.
    conv = R.CONVENTIONS[name]
    dim, base = 8, 10000.0
    K = dim // 2
    kk = sympy.Symbol("k", integer=True)
    w = sympy.symbols(f"w0:{K}", positive=True)
    M = _numeric(ss.offset_matrix(kk, w, conv.layout), (kk, *w))
    freqs = R.frequencies(dim, base, name)
    for p in (0, 5, 2**20 + 7, 2**24 + 1, 2**30):
        for k in (1, 3, 100, -17):
            Mk = M(k, *freqs)
            lhs = Mk @ R.table(np.array([p]), dim, base, name)[0]
            rhs = R.table(np.array([p + k]), dim, base, name)[0]
            np.testing.assert_allclose(lhs, rhs, atol=1e-13, rtol=0)
    # Independent of p: the same M(k) works at every p (checked above); and it is not the
    # RoPE-orientation block, which maps to PE(p - k) instead.
    Mk = M(3, *freqs)
    np.testing.assert_allclose(Mk.T @ R.table(np.array([10]), dim, base, name)[0],
                               R.table(np.array([7]), dim, base, name)[0], atol=1e-13)


def test_dot_product_depends_on_offset_only():
    dim, base = 64, 10000.0
    w = R.frequencies(dim, base)
    for k in (0, 1, 2, 50, 1000):
        expected = np.cos(k * w).sum()
        for p in (0, 17, 2**20, 2**30 - 1000):
            dots = [R.table(np.array([p]), dim)[0] @ R.table(np.array([p + s * k]), dim)[0] for s in (1, -1)]
            np.testing.assert_allclose(dots, expected, atol=1e-12)


def test_wavelengths_numeric():
    lam_v = 2 * math.pi / R.frequencies(512, 10000.0, "vaswani")
    lam_t = 2 * math.pi / R.frequencies(512, 10000.0, "tensor2tensor")
    assert lam_v[0] == lam_t[0] == 2 * math.pi
    assert lam_t[-1] == pytest.approx(2 * math.pi * 10000, rel=1e-15)
    assert lam_v[-1] == pytest.approx(2 * math.pi * 10000 ** (510 / 512), rel=1e-15)
    assert lam_v[-1] / (2 * math.pi) == pytest.approx(9646.6, abs=0.05)            # not 10000
    np.testing.assert_allclose(lam_v[1:] / lam_v[:-1], 10000 ** (2 / 512), rtol=1e-13)
    np.testing.assert_allclose(lam_t[1:] / lam_t[:-1], 10000 ** (1 / 255), rtol=1e-13)
