"""sympy derivations behind the RoPE clauses (RoFormer, arXiv:2104.09864).

Each derivation RETURNS an expression (scalar or Matrix) that is identically zero when the
property holds; ``pe_spec.symbolic.prove_zero`` decides it, and tests/test_rope_symbolic.py
asserts every entry of ``DERIVATIONS`` is PROVEN. Clauses cite them as
``pe_spec.rope.symbolic.<name>``. Forms are chosen so the proof is algebra (cos/sin rewritten
as complex exponentials, products reduced entrywise), not a hope that trigsimp succeeds.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import sympy
from sympy import I, Matrix, cos, exp, sin

from pe_spec.families.rope.conventions import interleaved_to_half

__all__ = [
    "rotation_block", "rotation_matrix", "rotation_matrix_half",
    "norm_preservation", "relative_rotation", "relative_score", "composition", "zero_identity",
    "complex_equivalence", "layout_conjugation", "inverse_rotation", "frequency_schedule",
    "long_term_decay_identity", "long_term_decay_bound", "DERIVATIONS",
]


def _reals(prefix: str, n: int, **assumptions: bool) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.Symbol(f"{prefix}{i}", real=True, **assumptions) for i in range(n))


# --- the rotation ---------------------------------------------------------------------------

def rotation_block(angle: Any) -> Matrix:
    """The 2x2 counter-clockwise rotation [[cos, -sin], [sin, cos]] (RoFormer eq. 13)."""
    return Matrix([[cos(angle), -sin(angle)], [sin(angle), cos(angle)]])


def rotation_matrix(angles: Sequence[Any]) -> Matrix:
    """R_Theta in the interleaved layout: block-diagonal, pair i on channels (2i, 2i+1) (eq. 15)."""
    return sympy.diag(*[rotation_block(t) for t in angles])


def rotation_matrix_half(angles: Sequence[Any]) -> Matrix:
    """The same map in the half layout: pair i on channels (i, i + d/2) (GPT-NeoX rotate_half)."""
    n = len(angles)
    R = sympy.zeros(2 * n, 2 * n)
    for i, t in enumerate(angles):
        R[i, i], R[i, i + n] = cos(t), -sin(t)
        R[i + n, i], R[i + n, i + n] = sin(t), cos(t)
    return R


# --- derivations (each is identically zero) -------------------------------------------------

def norm_preservation(npairs: int = 2) -> Matrix:
    """R(a)^T R(a) - I: R is orthogonal, so RoPE preserves every pair's norm (clause rope.norm)."""
    R = rotation_matrix(_reals("a", npairs))
    return R.T * R - sympy.eye(2 * npairs)


def relative_rotation(npairs: int = 2) -> Matrix:
    """R(a)^T R(b) - R(b - a): the product of two rotations depends on the angle difference (eq. 16)."""
    a, b = _reals("a", npairs), _reals("b", npairs)
    return rotation_matrix(a).T * rotation_matrix(b) - rotation_matrix([y - x for x, y in zip(a, b)])


def relative_score(npairs: int = 2) -> sympy.Expr:
    """<R(m w) q, R(n w) k> - F(q, k, m - n), with F written in terms of the difference only.

    The zero means the attention score of RoPE-rotated q (position m) and k (position n) is a
    function of m - n (RoFormer eq. 11): the relative-position property (clause rope.relative-shift).
    """
    m, n = sympy.symbols("m n", integer=True)
    w = _reals("w", npairs, positive=True)
    q, k = Matrix(_reals("q", 2 * npairs)), Matrix(_reals("k", 2 * npairs))

    def F(q: Matrix, k: Matrix, r: Any) -> sympy.Expr:
        # Per pair: (q.k) cos(r w) + (q x k) sin(r w), with r = m - n the only positional input.
        return sum(((q[2 * i] * k[2 * i] + q[2 * i + 1] * k[2 * i + 1]) * cos(r * w[i])
                    + (q[2 * i] * k[2 * i + 1] - q[2 * i + 1] * k[2 * i]) * sin(r * w[i]))
                   for i in range(npairs))

    score = (rotation_matrix([m * wi for wi in w]) * q).dot(rotation_matrix([n * wi for wi in w]) * k)
    return score - F(q, k, m - n)


def composition(npairs: int = 2) -> Matrix:
    """R(a) R(b) - R(a + b): rotating by b then by a is rotating by a + b (R(7)R(11) = R(18))."""
    a, b = _reals("a", npairs), _reals("b", npairs)
    return rotation_matrix(a) * rotation_matrix(b) - rotation_matrix([x + y for x, y in zip(a, b)])


def zero_identity(npairs: int = 2) -> Matrix:
    """R(0) - I: position 0 leaves the input unchanged."""
    return rotation_matrix([sympy.S.Zero] * npairs) - sympy.eye(2 * npairs)


def complex_equivalence() -> Matrix:
    """Rotating (x0, x1) by a equals (re, im) of (x0 + i x1) e^{ia}: Meta's complex form is RoPE.

    re and im are written as (z + conj z)/2 and (z - conj z)/(2i), which for real symbols is algebra.
    """
    x0, x1, a = _reals("x", 2) + _reals("a", 1)
    z = (x0 + I * x1) * exp(I * a)
    zc = sympy.conjugate(z)
    return Matrix([(z + zc) / 2, (z - zc) / (2 * I)]) - rotation_block(a) * Matrix([x0, x1])


def layout_conjugation(npairs: int = 3) -> Matrix:
    """P R_interleaved(t) P^T - R_half(t), P the permutation matrix of interleaved_to_half.

    With (P x)_j = x[perm[j]], interleaved(x)[perm] == half(x[perm]) for all x is exactly
    P R_int = R_half P: the two layouts are one map up to a fixed channel permutation.
    """
    perm = interleaved_to_half(2 * npairs)
    P = sympy.zeros(2 * npairs, 2 * npairs)
    for j, src in enumerate(perm):
        P[j, int(src)] = 1
    t = _reals("t", npairs)
    return P * rotation_matrix(t) * P.T - rotation_matrix_half(t)


def inverse_rotation(npairs: int = 2) -> Matrix:
    """R(a)^T - R(-a): the inverse (and the backward pass) of RoPE at p is RoPE at -p."""
    a = _reals("a", npairs)
    return rotation_matrix(a).T - rotation_matrix([-x for x in a])


def frequency_schedule(d: Any = None) -> Matrix:
    """[theta_0 - 1, theta_{i+1}/theta_i - base**(-2/d)] for theta_i = base**(-2i/d) (RoFormer 3.3).

    The zero says the first pair rotates at 1 rad/position and the frequencies form a geometric
    sequence with ratio base**(-2/d), d the rotary dim (symbolic even by default).
    """
    if d is None:
        d = sympy.Symbol("d", integer=True, positive=True, even=True)
    base = sympy.Symbol("base", positive=True)
    i = sympy.Symbol("i", integer=True, nonnegative=True)

    def theta(j: Any) -> sympy.Expr:
        return base ** (-2 * j / d)

    return Matrix([theta(0) - 1, theta(i + 1) / theta(i) - base ** (sympy.Integer(-2) / d)])


def long_term_decay_identity(npairs: int = 4) -> sympy.Expr:
    """Abel summation (RoFormer 3.4.3): sum h_i (S_{i+1} - S_i) + sum S_{i+1} (h_{i+1} - h_i), h_n = S_0 = 0.

    With S_j = sum_{k<j} e^{i r theta_k} the left sum is the RoPE score sum_i h_i e^{i r theta_i},
    so by the triangle inequality |score| <= max_i |h_{i+1} - h_i| * sum_{j=1}^{n} |S_j|.
    """
    n = npairs
    h = list(sympy.symbols(f"h0:{n}")) + [sympy.S.Zero]            # complex, h_n = 0
    S = [sympy.S.Zero] + list(sympy.symbols(f"S1:{n + 1}"))         # generic, S_0 = 0
    lhs = sum(h[i] * (S[i + 1] - S[i]) for i in range(n))
    rhs = -sum(S[i + 1] * (h[i + 1] - h[i]) for i in range(n))
    return lhs - rhs


# --- numeric helper (docs plot) -------------------------------------------------------------

def long_term_decay_bound(relative_distances: np.ndarray, rotary_dim: int, base: float) -> np.ndarray:
    """RoFormer's relative upper bound (1/(d/2)) sum_{j=1}^{d/2} |S_j|, S_j = sum_{k<j} e^{i r theta_k}.

    float64, one value per relative distance r; it is (d/2 + 1)/2 at r = 0 and decays, with
    oscillation, as |r| grows (RoFormer Figure 2).
    """
    r = np.asarray(relative_distances, dtype=np.float64)
    theta = float(base) ** (-np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)
    S = np.cumsum(np.exp(1j * r[..., None] * theta), axis=-1)      # S_1 .. S_{d/2}
    return np.abs(S).mean(axis=-1)


DERIVATIONS: dict[str, Callable[[], Any]] = {
    f.__name__: f
    for f in (norm_preservation, relative_rotation, relative_score, composition, zero_identity,
              complex_equivalence, layout_conjugation, inverse_rotation, frequency_schedule,
              long_term_decay_identity)
}
