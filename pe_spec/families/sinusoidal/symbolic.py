"""sympy derivations behind the sinusoidal clauses (Vaswani et al. 2017, section 3.5).

Each derivation RETURNS an expression (scalar or Matrix) that is identically zero when the
property holds; ``pe_spec.symbolic.prove_zero`` decides it, and tests/test_sinusoidal_symbolic.py
asserts every entry of ``DERIVATIONS`` is PROVEN. Clauses cite them as
``pe_spec.sinusoidal.symbolic.<name>``.

What is proven symbolically (for every position p and offset k, integer symbols, and
arbitrary positive frequencies w_0..w_{K-1}, so for every convention at once; shown for a
few pairs K, each pair's identity being independent of the others):
  linear_offset / linear_offset_concat
        PE(p + k) = M(k) PE(p), M(k) block-diagonal, free of p (the paper's "PE_{pos+k} can be
        represented as a linear function of PE_pos"), in both layouts;
  offset_matrix_is_rotation, offset_composition
        M(k) is orthogonal and M(a) M(b) = M(a + b);
  offset_dot_product, dot_product_even
        <PE(p), PE(p + k)> = sum_j cos(k w_j): a function of k alone, and even in k;
  constant_norm
        ||PE(p)||^2 = K (= d/2; (d-1)/2 for a zero-padded odd d);
  wavelength_progression, wavelength_progression_t2t, vaswani_wavelength_limit
        wavelengths 2 pi / w_k, for symbolic d: a geometric progression starting at 2 pi, with
        its exact ratio and last term per convention (see the paper's imprecision below).

What must be checked numerically, per dtype, because it is not an identity:
  injectivity over the integers (uniqueness): PE(p) = PE(q) for integers p != q would need
        (p - q) w_j in 2 pi Z for every j; with w_0 = 1 and 2 pi irrational that never happens
        in exact arithmetic, but after rounding to a dtype distinct positions collide. The
        horizon (the largest L with all positions below L distinguishable) depends on d, base,
        dtype and convention: ``pe_spec.naive.reference.uniqueness_horizon``.
  boundedness is trivial (|sin|, |cos| <= 1); agreement of an implementation with the float64
        reference is the tolerance model's business; "generalizes past the training length" is
        a claim about models, not encodings, and is not proven here.

The paper's imprecision: "the wavelengths form a geometric progression from 2 pi to 10000 * 2 pi".
For Vaswani's w_i = base**(-2i/d) the last wavelength (i = d/2 - 1) is 2 pi base**((d-2)/d),
not 2 pi base (for d = 512: 2 pi * 9646.6); 2 pi base is only the limit d -> oo
(``vaswani_wavelength_limit``), and ``paper_wavelength_claim('vaswani')`` is refuted. For the
tensor2tensor family (w_k = base**(-k/(K-1))) the last wavelength is exactly 2 pi base.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import sympy
from sympy import Matrix, cos, sin

__all__ = [
    "encoding", "offset_block", "offset_matrix",
    "linear_offset", "linear_offset_concat", "offset_matrix_is_rotation", "offset_composition",
    "offset_dot_product", "dot_product_even", "constant_norm",
    "wavelengths", "wavelength_progression", "wavelength_progression_t2t", "vaswani_wavelength_limit",
    "paper_wavelength_claim", "DERIVATIONS",
]

LAYOUTS = ("interleaved", "concat")


def _positions() -> tuple[sympy.Symbol, sympy.Symbol]:
    return sympy.Symbol("p", integer=True), sympy.Symbol("k", integer=True)


def _freqs(npairs: int) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.Symbol(f"w{j}", positive=True) for j in range(npairs))


def _order(npairs: int, layout: str) -> list[int]:
    """Row j of the interleaved vector goes to row order[j] of the layout's vector."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown sinusoidal layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if layout == "interleaved":
        return list(range(2 * npairs))
    return [j // 2 + (npairs if j % 2 else 0) for j in range(2 * npairs)]


def _permute(v: Matrix, npairs: int, layout: str) -> Matrix:
    out = sympy.zeros(2 * npairs, v.cols)
    for j, dst in enumerate(_order(npairs, layout)):
        out[dst, :] = v[j, :]
    return out


def encoding(q: Any, freqs: Sequence[Any], layout: str = "interleaved") -> Matrix:
    """PE(q) as a column: (sin(q w_j), cos(q w_j)) at (2j, 2j+1) (interleaved) or (j, K + j) (concat)."""
    v = Matrix([f(q * w) for w in freqs for f in (sin, cos)])
    return _permute(v, len(freqs), layout)


def offset_block(angle: Any) -> Matrix:
    """[[cos a, sin a], [-sin a, cos a]]: maps (sin t, cos t) to (sin(t + a), cos(t + a)).

    With the pair ordered (sin, cos) this is the CLOCKWISE rotation R(-a), the transpose of RoPE's
    [[cos, -sin], [sin, cos]] acting on (a, b) = (x, y): (sin t, cos t) is the point
    (cos t, sin t) with its coordinates swapped, and swapping reverses orientation.
    """
    return Matrix([[cos(angle), sin(angle)], [-sin(angle), cos(angle)]])


def offset_matrix(k: Any, freqs: Sequence[Any], layout: str = "interleaved") -> Matrix:
    """M(k): block-diagonal offset_block(k w_j) (interleaved), the same map with the rows and
    columns permuted into [sin | cos] for 'concat' (entries (j, j), (j, K+j), (K+j, j), (K+j, K+j))."""
    n = len(freqs)
    M = sympy.diag(*[offset_block(k * w) for w in freqs])
    order = _order(n, layout)
    P = sympy.zeros(2 * n, 2 * n)
    for j, dst in enumerate(order):
        P[dst, j] = 1
    return P * M * P.T


# --- derivations (each is identically zero) -------------------------------------------------

def linear_offset(npairs: int = 2, layout: str = "interleaved") -> Matrix:
    """PE(p + k) - M(k) PE(p), with M(k) = diag_j [[cos k w_j, sin k w_j], [-sin k w_j, cos k w_j]].

    M(k) contains k and the frequencies only, never p: for each fixed offset k, PE(p + k) is the
    same linear map of PE(p) at every position (clause sinusoidal.linear-offset). Angle addition,
    per pair: sin(t + a) = sin t cos a + cos t sin a, cos(t + a) = -sin t sin a + cos t cos a.
    """
    p, k = _positions()
    w = _freqs(npairs)
    return encoding(p + k, w, layout) - offset_matrix(k, w, layout) * encoding(p, w, layout)


def linear_offset_concat(npairs: int = 2) -> Matrix:
    """linear_offset in the [sin | cos] layout (tensor2tensor, fairseq, Whisper, 'concat')."""
    return linear_offset(npairs, "concat")


def offset_matrix_is_rotation(npairs: int = 2) -> Matrix:
    """M(k)^T M(k) - I: the offset map is orthogonal (a rotation of each pair), so it preserves norms."""
    k = sympy.Symbol("k", integer=True)
    M = offset_matrix(k, _freqs(npairs))
    return M.T * M - sympy.eye(2 * npairs)


def offset_composition(npairs: int = 2) -> Matrix:
    """M(a) M(b) - M(a + b): offsets compose additively (shift by b then by a is a shift by a + b)."""
    a, b = sympy.symbols("a b", integer=True)
    w = _freqs(npairs)
    return offset_matrix(a, w) * offset_matrix(b, w) - offset_matrix(a + b, w)


def offset_dot_product(npairs: int = 3) -> sympy.Expr:
    """<PE(p), PE(p + k)> - sum_j cos(k w_j): the dot product depends on the offset k only.

    Per pair: sin(p w) sin((p + k) w) + cos(p w) cos((p + k) w) = cos(k w). (The same holds in
    either layout: the dot product does not see the channel order.)
    """
    p, k = _positions()
    w = _freqs(npairs)
    dot = encoding(p, w).dot(encoding(p + k, w))
    return dot - sum(cos(k * wj) for wj in w)


def dot_product_even(npairs: int = 3) -> sympy.Expr:
    """<PE(p), PE(p + k)> - <PE(p), PE(p - k)>: f(k) = f(-k), looking forward and back alike.

    Written with the full dot products (not just cos(k w) - cos(-k w), which sympy folds to 0
    on construction), so the zero is a statement about the encoding itself.
    """
    p, k = _positions()
    w = _freqs(npairs)
    return encoding(p, w).dot(encoding(p + k, w)) - encoding(p, w).dot(encoding(p - k, w))


def constant_norm(npairs: int = 3) -> sympy.Expr:
    """||PE(p)||^2 - K, K the number of pairs: every position has squared norm d/2 (d even)."""
    p, _ = _positions()
    v = encoding(p, _freqs(npairs))
    return v.dot(v) - npairs


# --- wavelengths -------------------------------------------------------------------------------

def wavelengths(denominator: str = "vaswani") -> tuple[Callable[[Any], sympy.Expr], sympy.Expr, sympy.Symbol, sympy.Symbol]:
    """(lambda_, K, base, m): lambda_(k) = 2 pi / w_k for a symbolic number of pairs K.

    vaswani: w_k = base**(-2k/d), d = 2K, K = m >= 1;  t2t: w_k = base**(-k/(K-1)), K = m + 1 >= 2.
    """
    base = sympy.Symbol("base", positive=True)
    m = sympy.Symbol("m", integer=True, positive=True)
    if denominator == "vaswani":
        K = m
        d = 2 * K

        def lam(k: Any) -> sympy.Expr:
            return 2 * sympy.pi / base ** (-2 * k / d)
    elif denominator == "t2t":
        K = m + 1

        def lam(k: Any) -> sympy.Expr:
            return 2 * sympy.pi / base ** (-k / (K - 1))
    else:
        raise ValueError(f"unknown frequency denominator {denominator!r}; expected 'vaswani' or 't2t'")
    return lam, K, base, m


def wavelength_progression(denominator: str = "vaswani") -> Matrix:
    """[lambda_0 - 2 pi, lambda_{k+1}/lambda_k - r, lambda_{K-1} - last] for the true r and last.

    vaswani (d = 2K): r = base**(2/d), last = 2 pi base**((d-2)/d), i.e. NOT 2 pi base;
    t2t:              r = base**(1/(K-1)), last = 2 pi base exactly.
    A geometric progression from 2 pi with ratio r, ending where stated.
    """
    lam, K, base, _ = wavelengths(denominator)
    k = sympy.Symbol("k", integer=True, nonnegative=True)
    if denominator == "vaswani":
        d = 2 * K
        ratio, last = base ** (sympy.Integer(2) / d), 2 * sympy.pi * base ** ((d - 2) / d)
    else:
        ratio, last = base ** (1 / (K - 1)), 2 * sympy.pi * base
    return Matrix([lam(0) - 2 * sympy.pi, lam(k + 1) / lam(k) - ratio, lam(K - 1) - last])


def wavelength_progression_t2t() -> Matrix:
    """wavelength_progression for the tensor2tensor / fairseq / Whisper frequencies."""
    return wavelength_progression("t2t")


def vaswani_wavelength_limit() -> sympy.Expr:
    """lim_{d -> oo} lambda_{d/2-1} - 2 pi base: the paper's "to 10000 * 2 pi" holds only in the limit.

    The limit is evaluated by ``sympy.limit`` (a closed form, so the zero is its evaluation).
    """
    lam, K, base, m = wavelengths("vaswani")
    x = sympy.Symbol("x", positive=True)           # continuous stand-in for the pair count
    last = lam(K - 1).subs(m, x)
    return sympy.limit(last, x, sympy.oo) - 2 * sympy.pi * base


def paper_wavelength_claim(denominator: str = "vaswani") -> sympy.Expr:
    """lambda_{K-1} - 2 pi base: the paper's literal claim about the last wavelength.

    Identically zero for 't2t'; NOT zero for 'vaswani' (refuted: the ratio to the claim is
    base**(-2/d)). Not in DERIVATIONS, because for the paper's own formula it is false.
    """
    lam, K, base, _ = wavelengths(denominator)
    return lam(K - 1) - 2 * sympy.pi * base


DERIVATIONS: dict[str, Callable[[], Any]] = {
    f.__name__: f
    for f in (linear_offset, linear_offset_concat, offset_matrix_is_rotation, offset_composition,
              offset_dot_product, dot_product_even, constant_norm, wavelength_progression,
              wavelength_progression_t2t, vaswani_wavelength_limit)
}
