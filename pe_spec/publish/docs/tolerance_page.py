"""tolerance.md: the normative error model (pe_spec.spec.tolerance), its constants, derivation and
code, then each family's worked example (its publish module's ``tolerance_sections``)."""
from __future__ import annotations

import inspect
import math

import numpy as np

from pe_spec.spec import dtypes, registry
from pe_spec.spec import tolerance as T

from .. import hooks, markdown as md
from .common import Context, spec_heading


def render(ctx: Context) -> str:
    check_summary()
    C = dict(constants())
    pages = " · ".join(f"[`{f.name}` clauses]({f.page})" for f in registry.families())
    out = [spec_heading("The tolerance model"), "",
           md.generated_by(f"from {md.source_path(T.__name__)} and {md.source_path(dtypes.__name__)}"), "",
           f"Normative: every clause that compares numbers takes its allowed error from "
           f"{md.module_link(T.__name__)}, and every failure reports the observed error, the "
           f"allowed error and their ratio. [Landing page](index.md) · {pages}.", "",
           "## The model", "",
           "For rotated pair i (frequency w_i) of an input x at position p, in output dtype `dt`:", ""]
    out += md.code("text", "\n".join([
        "allowed_i = ||x_i|| * (min(phase_i, MAX_PHASE_DISPLACEMENT) + A) + F",
        "phase_i   = |p| * w_i * u_c * (PHASE_LOG_FACTOR * |ln w_i| + PHASE_CONST)",
        "          = |p| * w_i * u_c * ({PHASE_LOG_FACTOR} * |ln w_i| + {PHASE_CONST})".format(**C),
        "A         = AMPLITUDE_OUT * u_o + AMPLITUDE_COMPUTE * u_c = {AMPLITUDE_OUT} u_o + {AMPLITUDE_COMPUTE} u_c".format(**C),
        "F         = FLOOR_NORMALS * smallest normal of range_dtype(dt) = {FLOOR_NORMALS} * n(dt)  (flush to zero allowed)".format(**C),
        "u_o       = unit roundoff of dt;  u_c = u_fp32  (angles computed in at least fp32, enough for every dtype)",
        "range_dtype(dt) = dt, fp32 for float64 (a float64 input may be computed in fp32)",
        f"MAX_PHASE_DISPLACEMENT = {T.MAX_PHASE_DISPLACEMENT}: a rotation by any wrong angle moves a vector by at most twice its norm",
    ])) + [""]
    out += ["(This summary is checked against the functions below each time the page is generated.)", "",
            "## Constants", ""]
    out += md.table(["constant", "value"], [[f"`{k}`", repr(v)] for k, v in constants()]) + [""]
    out += ["## Unit roundoffs and per-dtype terms", "",
            f"`UNIT_ROUNDOFF` and `SMALLEST_NORMAL` from {md.module_link(dtypes.__name__)}; "
            f"`compute_roundoff`, `amplitude_bound` and `floor_bound` from `{T.__name__}`:", ""]
    rows = [[f"`{dt}`", md.pow2(dtypes.UNIT_ROUNDOFF[dt]), md.g(dtypes.UNIT_ROUNDOFF[dt]),
             md.pow2(T.compute_roundoff(dt)), md.g(T.amplitude_bound(dt)), md.g(T.floor_bound(dt))]
            for dt in dtypes.FLOAT_DTYPES]
    out += md.table(["dtype", "u", "u (decimal)", "u_c (compute)", "A = amplitude_bound", "F = floor_bound"], rows)
    out += ["", "## Derivation", "", f"The module docstring of `{T.__name__}`, verbatim:", ""]
    out += md.code("text", inspect.cleandoc(T.__doc__)) + [""]
    out += ["## The code", ""]
    out += md.code("python", "\n\n".join(inspect.getsource(f).rstrip() for f in
                                         (T.phase_bound, T.amplitude_bound, T.floor_bound, T.PairAllowance))) + [""]
    for family, sections in hooks.providers("tolerance_sections"):
        out += sections(ctx.for_family(family))
    return "\n".join(out)


def relative_allowance(p: np.ndarray, w: np.ndarray, dtype: str) -> np.ndarray:
    """Allowed ||y_i - ref_i|| / ||x_i|| (floor excluded: it is absolute), shape p.shape + w.shape."""
    return T.pair_allowance(np.asarray(p), np.atleast_1d(w), dtype).allowed(np.ones(1))


def constants() -> list[tuple[str, float]]:
    """Module-level numeric constants of the tolerance model, in definition order."""
    return [(k, v) for k, v in vars(T).items()
            if k.isupper() and isinstance(v, (int, float)) and not isinstance(v, bool)]


def check_summary() -> None:
    """The summary on the page must be what the tolerance module computes; fail loudly if not."""
    p = np.array([1, 2**11, 2**20, 2**30])
    w = np.array([1.0, 0.3, 1.2e-4])
    for dt in dtypes.FLOAT_DTYPES:
        u_o, u_c = dtypes.UNIT_ROUNDOFF[dt], dtypes.UNIT_ROUNDOFF["float32"]
        phase = p[:, None] * w * u_c * (T.PHASE_LOG_FACTOR * np.abs(np.log(w)) + T.PHASE_CONST)
        amp = T.AMPLITUDE_OUT * u_o + T.AMPLITUDE_COMPUTE * u_c
        floor = T.FLOOR_NORMALS * dtypes.SMALLEST_NORMAL["float32" if dt == "float64" else dt]
        a = T.pair_allowance(p, w, dt)
        norms = np.array([0.5, 3.0, 0.0])
        ok = (np.allclose(a.phase, phase, rtol=1e-12, atol=0) and math.isclose(a.amplitude, amp, rel_tol=1e-12)
              and math.isclose(a.floor, floor, rel_tol=1e-12)
              and np.allclose(a.allowed(norms), norms * (np.minimum(phase, T.MAX_PHASE_DISPLACEMENT) + amp) + floor,
                              rtol=1e-12, atol=0))
        if not ok:
            raise RuntimeError(f"{T.__name__} no longer computes the model summarised on docs/tolerance.md; "
                               f"update the summary in {__name__}")
