"""A three-outcome checker for "this sympy expression is identically zero".

sympy's ``simplify``/``trigsimp`` are incomplete: a failure to reach 0 proves nothing. So a
check has three outcomes (DESIGN.md, "Symbolic derivations"):

  PROVEN     an algebraic rewrite returned exactly 0 (every entry, for a Matrix);
  REFUTED    a numeric evaluation at high precision is clearly nonzero; the point is returned;
  UNDECIDED  no rewrite reached 0 but every numeric sample is ~0: consistent, not proven.

Only PROVEN is truthy, so ``assert prove_zero(e)`` can never pass on an undecided identity.
"""
from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from typing import Any, Callable

import mpmath
import sympy
from sympy.matrices import MatrixBase
from sympy.simplify.fu import TR10

__all__ = ["Outcome", "Verdict", "prove_zero", "prove_equal", "resolve"]


def resolve(dotted: str) -> Callable[[], Any]:
    """The derivation a clause cites by dotted name. The name may go through a family's public
    alias (``pe_spec.<family>``, an attribute of pe_spec rather than an importable module), so each
    part is an attribute, or else a submodule imported on the way."""
    import importlib

    *path, attr = dotted.split(".")
    try:
        obj: Any = importlib.import_module(path[0])
        for part in path[1:]:
            try:
                obj = getattr(obj, part)
            except AttributeError:
                obj = importlib.import_module(f"{obj.__name__}.{part}")
        return getattr(obj, attr)
    except (ImportError, AttributeError) as e:
        raise RuntimeError(f"derivation {dotted!r} cannot be resolved: {e}") from None


class Outcome(enum.Enum):
    PROVEN = "proven"
    REFUTED = "refuted"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    method: str
    counterexample: dict | None = None   # symbol name -> value where the expression is nonzero
    residual: float | None = None        # |value| / scale of its terms (largest seen, if numeric)

    def __bool__(self) -> bool:
        return self.outcome is Outcome.PROVEN

    def __str__(self) -> str:
        s = f"{self.outcome.value.upper()}: {self.method}"
        if self.residual is not None:
            s += f" (relative residual {self.residual:.3g})"
        if self.counterexample is not None:
            s += " at " + ", ".join(f"{k}={v!r}" for k, v in self.counterexample.items())
        return s


# --- algebraic routes -----------------------------------------------------------------------
# Cheap routes first: rotation identities become polynomial identities in exp(I*angle) once
# cos/sin are rewritten, and plain expansion cancels them; TR10 (angle addition) covers the
# entrywise form. simplify/trigsimp are slow and only tried once the numbers agree.

def _exp_expand(e: sympy.Expr) -> sympy.Expr:
    return sympy.expand(e.rewrite(sympy.exp))


def _angle_addition(e: sympy.Expr) -> sympy.Expr:
    return sympy.expand(sympy.expand_trig(TR10(sympy.expand(e))))


_CHEAP_ROUTES: list[tuple[str, Callable[[sympy.Expr], sympy.Expr]]] = [
    ("exp-rewrite+expand", _exp_expand),
    ("TR10+expand_trig+expand", _angle_addition),
]
_EXPENSIVE_ROUTES: list[tuple[str, Callable[[sympy.Expr], sympy.Expr]]] = [
    ("simplify", sympy.simplify),
    ("exp-rewrite+simplify", lambda e: sympy.simplify(_exp_expand(e))),
    ("trigsimp", sympy.trigsimp),
]


def _try_routes(entry: sympy.Expr, routes) -> str | None:
    """Name of the first route that rewrites ``entry`` to exactly 0, else None."""
    if entry == 0:
        return "evaluation"
    for name, route in routes:
        try:
            if route(entry) == 0:
                return name
        except Exception:  # a route that cannot handle the expression just does not prove it
            continue
    return None


# --- numeric sampling -----------------------------------------------------------------------
_LARGE_INTS = (2**11 - 1, 2**11 + 1, 2**16 + 1, 2**20, 2**20 + 7, 2**24 + 1, 2**31 - 1)
_CHECKED = ("integer", "positive", "negative", "nonnegative", "nonpositive", "zero", "nonzero",
            "even", "odd")


def _satisfies(sym: sympy.Symbol, value: Any) -> bool:
    # Compare the drawn number's properties with every assumption the symbol declares.
    num = sympy.sympify(value)
    for key in _CHECKED:
        want = getattr(sym, "is_" + key)
        if want is not None and getattr(num, "is_" + key) is not want:
            return False
    return True


def _draw(sym: sympy.Symbol, rng: random.Random) -> Any:
    for _ in range(1000):
        if sym.is_integer:
            kind = rng.random()
            if kind < 0.4:
                v = rng.randint(-12, 12)
            elif kind < 0.8:
                v = rng.choice(_LARGE_INTS) * rng.choice((1, -1))   # the long-context regimes
            else:
                v = rng.randint(-2**31 + 1, 2**31 - 1)
        elif sym.is_real:
            v = rng.uniform(-3.0, 3.0) if rng.random() < 0.7 else rng.uniform(-1, 1) * 10 ** rng.uniform(-3, 3)
        elif sym.is_commutative:
            v = complex(rng.uniform(-3.0, 3.0), rng.uniform(-3.0, 3.0))
        else:
            raise TypeError(f"cannot sample non-commutative symbol {sym}")
        if _satisfies(sym, v):
            return v
    raise ValueError(f"could not draw a value satisfying the assumptions of {sym}")


def _to_mp(v: Any):
    return mpmath.mpc(v) if isinstance(v, complex) else mpmath.mpf(v)


def _numeric(entries: list[sympy.Expr], samples: int, seed: int, dps: int):
    """(refuted?, worst relative residual, counterexample, entry index)."""
    syms = sorted(set().union(*(e.free_symbols for e in entries)), key=lambda s: s.name)
    rng = random.Random(seed)
    points = [{s: _draw(s, rng) for s in syms} for _ in range(samples)]
    # Each entry with its top-level terms, so the threshold is relative to their size.
    parts = [[e, *(e.args if isinstance(e, sympy.Add) else ())] for e in entries]
    fns = [sympy.lambdify(syms, p, modules="mpmath") for p in parts]
    tol = mpmath.mpf(10) ** (-dps / 2)
    worst = 0.0
    for pt in points:
        for idx, fn in enumerate(fns):
            vals = {}
            for prec in (dps, 2 * dps):
                with mpmath.workdps(prec):
                    vals[prec] = [mpmath.mpmathify(v) for v in fn(*[_to_mp(pt[s]) for s in syms])]
            with mpmath.workdps(2 * dps):
                value = abs(vals[2 * dps][0])
                # Rounding noise at dps digits, scaled up, estimates the condition of the sum:
                # a true zero computed with cancellation (x*(cos^2+sin^2-1)) is not a refutation.
                noise = abs(vals[dps][0] - vals[2 * dps][0]) * mpmath.mpf(10) ** dps
                scale = max([noise] + [abs(t) for t in vals[2 * dps][1:]] + [value])
                rel = value / scale if scale else mpmath.mpf(0)
            worst = max(worst, float(rel))
            if rel > tol:
                cex = {s.name: pt[s] for s in syms}
                return True, float(rel), cex, idx
    return False, worst, None, None


def prove_zero(expr: sympy.Expr | MatrixBase, *, samples: int = 20, seed: int = 0,
               dps: int = 50) -> Verdict:
    """Decide whether ``expr`` (a sympy scalar or Matrix) is identically zero; see module doc.

    Numeric points are drawn with ``random.Random(seed)`` from each symbol's assumptions
    (integers include 2**20-scale values, reals and complexes are O(1) with occasional wide
    scales) and evaluated with mpmath at ``dps`` and ``2*dps`` digits; a point is a
    counterexample when |value| > 10**(-dps/2) times the scale of its terms.
    """
    is_matrix = isinstance(expr, MatrixBase)
    entries = [sympy.sympify(e) for e in expr] if is_matrix else [sympy.sympify(expr)]

    # Order: cheap rewrites, then numbers (so a wrong identity is refuted without waiting on
    # simplify), then the slow rewrites for whatever the cheap ones left open.
    methods = [_try_routes(e, _CHEAP_ROUTES) for e in entries]
    if all(methods):
        return Verdict(Outcome.PROVEN, _describe(methods))

    open_idx = [i for i, m in enumerate(methods) if m is None]
    refuted, residual, cex, idx = _numeric([entries[i] for i in open_idx], samples, seed, dps)
    if refuted:
        where = f"entry {divmod(open_idx[idx], expr.cols)}" if is_matrix else "the expression"
        return Verdict(Outcome.REFUTED, f"numeric evaluation ({dps} digits), {where} nonzero",
                       cex, residual)

    for i, e in enumerate(entries):
        if methods[i] is None:
            methods[i] = _try_routes(e, _EXPENSIVE_ROUTES)
    if all(methods):
        return Verdict(Outcome.PROVEN, _describe(methods))
    return Verdict(Outcome.UNDECIDED,
                   f"no rewrite reached 0; {samples} numeric samples ({dps} digits) agree",
                   None, residual)


def _describe(methods: list[str | None]) -> str:
    used = sorted({m for m in methods if m and m != "evaluation"})
    return " + ".join(used) if used else "evaluation"


def prove_equal(lhs: sympy.Expr | MatrixBase, rhs: sympy.Expr | MatrixBase, **kw: Any) -> Verdict:
    """prove_zero(lhs - rhs)."""
    return prove_zero(lhs - rhs, **kw)
