"""What the sinusoidal family adds to the published pages (hooks: pe_spec.publish.hooks).

Its page is the generic one (reference and derivation docstrings, clauses, derivations); it adds
a row of the property matrix, the uniqueness horizon per dtype, and its curve of the
dot-product-against-offset plot.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np

from pe_spec.families.sinusoidal import reference as S
from pe_spec.publish import markdown as md
from pe_spec.publish.hooks import OffsetCurve
from pe_spec.publish.matrix import Encoding, dot_score

PLOTS = ("plots/uniqueness_horizon.png",)
MATRIX_BASE = 10000.0

# The uniqueness horizon is searched for these dims and dtypes, up to this many positions.
HORIZON_DIMS = (2, 4, 8, 16, 64)
HORIZON_DTYPES = ("float32", "bfloat16", "float16")
HORIZON_MAX_POSITIONS = 2**18


# --------------------------------------------------------------------------------------------
# the property matrix

def matrix_encoding(dim: int, seed: int) -> Encoding:
    """Vaswani's table at base 10000 (the table is fixed: ``seed`` draws nothing)."""
    enc = lambda p, n: S.table(p, dim, MATRIX_BASE, "vaswani")     # noqa: E731
    return Encoding("sinusoidal", "sinusoidal (Vaswani)", "PE(p)_{2i} = sin(p w_i), PE(p)_{2i+1} = cos(p w_i), "
                    f"w_i = {MATRIX_BASE:g}^(-2i/d)", enc, dot_score(enc),
                    clauses={"unique": "sinusoidal.uniqueness", "bounded": "sinusoidal.bounded",
                             "linear_relative_map": "sinusoidal.linear-offset",
                             "relative_scores": "sinusoidal.offset-dot", "deterministic": "impl.determinism"})


def offset_curves(offsets: np.ndarray, dim: int, base: float) -> list[OffsetCurve]:
    pe, pe0 = S.table(offsets, dim, base), S.table(np.zeros(1, dtype=np.int64), dim, base)[0]
    return [OffsetCurve("", "sinusoidal <PE(p), PE(p+k)>", pe @ pe0 / (pe0 @ pe0), "-", "tab:blue")]


def offset_caption(dim: int, base: float) -> str:
    return ("Solid: <PE(0), PE(k)> / <PE(0), PE(0)> of Vaswani sinusoids, which is (1/(d/2)) sum_i cos(k w_i) "
            "at every base position (clause sinusoidal.offset-dot).")


# --------------------------------------------------------------------------------------------
# uniqueness horizon per dtype

@functools.lru_cache(maxsize=4)
def horizon_table(dims: tuple[int, ...] = HORIZON_DIMS, dtypes: tuple[str, ...] = HORIZON_DTYPES,
                  max_positions: int = HORIZON_MAX_POSITIONS) -> dict[tuple[int, str], tuple[int, bool]]:
    """(dim, dtype) -> (horizon, found) for Vaswani sinusoids (base 10000) via
    ``pe_spec.spec.naive.uniqueness_horizons``: positions 0..horizon-1 are pairwise
    distinguishable after correct rounding to the dtype. found=False means no repeat was found
    below ``max_positions``: the horizon is then a lower bound (at least max_positions)."""
    from pe_spec.spec.naive import uniqueness_horizons

    out = {}
    for d in dims:
        h = uniqueness_horizons(functools.partial(S.table, dim=d), list(dtypes), max_positions)
        for dt in dtypes:
            out[d, dt] = (int(h[dt]), int(h[dt]) < max_positions)
    return out


def _horizon_fingerprint(table: dict[tuple[int, str], tuple[int, bool]]) -> str:
    keys = [(d, dt) for d in HORIZON_DIMS for dt in HORIZON_DTYPES]
    return md.fingerprint([table[k][0] for k in keys], [float(table[k][1]) for k in keys])


def _horizon_cell(h: int, found: bool) -> str:
    return str(h) if found else f"≥ {md.pow2(h)}"


def matrix_sections(ctx: Any) -> list[str]:
    from pe_spec.spec import naive

    table = horizon_table()
    bound = md.pow2(HORIZON_MAX_POSITIONS)
    out = ["## Uniqueness horizon per dtype", "",
           "The largest L such that positions 0..L-1 of Vaswani sinusoids (base 10000) all have distinct "
           f"encodings after correct rounding to the dtype (`{naive.__name__}.uniqueness_horizon`, "
           f"searched up to {bound} positions). `≥ {bound}` "
           "means no repeat was found below the search bound: a lower bound, not the horizon. In float64 "
           "the reference is unique over the whole exact range (the matrix above).", ""]
    out += md.table(["dim"] + [f"`{dt}`" for dt in HORIZON_DTYPES],
                    [[str(d)] + [_horizon_cell(*table[d, dt]) for dt in HORIZON_DTYPES] for d in HORIZON_DIMS])
    out += ["", "![uniqueness horizon per dtype](plots/uniqueness_horizon.png)", "",
            f"*Uniqueness horizon per dim and dtype (log scale). Hatched bars reached the search bound "
            f"{bound} without a repeat (lower bounds).*", ""]
    return out + md.fingerprint_comment(_horizon_fingerprint(table))


def plots(out_dir: Path, plt: Any) -> list[Path]:
    from pe_spec.publish.docs.plots import save

    table = horizon_table()
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(HORIZON_DTYPES)
    colors = {"float32": "tab:blue", "bfloat16": "tab:orange", "float16": "tab:green"}
    x = np.arange(len(HORIZON_DIMS))
    for j, dt in enumerate(HORIZON_DTYPES):
        hs = [table[d, dt][0] for d in HORIZON_DIMS]
        found = [table[d, dt][1] for d in HORIZON_DIMS]
        bars = ax.bar(x + (j - (len(HORIZON_DTYPES) - 1) / 2) * width, hs, width, color=colors.get(dt),
                      label=dt, edgecolor="black", linewidth=0.5)
        for b, h, f in zip(bars, hs, found):
            if not f:
                b.set_hatch("//")
            ax.text(b.get_x() + b.get_width() / 2, h * 1.15, str(h) if f else "≥", ha="center", va="bottom",
                    fontsize=7, rotation=90 if f else 0)
    ax.set_yscale("log", base=2)
    ax.set_ylim(1, HORIZON_MAX_POSITIONS * 64)
    ax.axhline(HORIZON_MAX_POSITIONS, color="0.4", ls=":", lw=0.8)
    ax.set_xticks(x, [f"d = {d}" for d in HORIZON_DIMS])
    ax.set_ylabel("uniqueness horizon (positions)")
    ax.legend(title="dtype (hatched: no repeat below the bound, a lower bound)", fontsize=8, title_fontsize=8,
              loc="upper center", ncol=len(HORIZON_DTYPES))
    ax.set_title(f"Vaswani sinusoids: positions distinguishable after rounding (search bound "
                 f"2^{int(math.log2(HORIZON_MAX_POSITIONS))})")
    fig.tight_layout()
    return [save(fig, out_dir / PLOTS[0], dpi=110)]
