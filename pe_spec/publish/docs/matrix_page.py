"""property-matrix.md: the property matrix (pe_spec.publish.matrix), each cell's evidence, the
checks' definitions, the families' extra sections, and the data its two plots draw."""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import hooks, markdown as md
from .. import matrix as M
from .common import Context, clause_href, spec_heading

PAGE = "property-matrix.md"
HEATMAP_POSITIONS = 128            # positions 0..127 in the heatmaps (training length 64 marked)
OFFSET_DIM, OFFSET_BASE = 64, 10000.0
# The offsets of the dot-product plot: a linear and a log grid.
OFFSET_GRIDS = {"lin": np.arange(0, 257, dtype=np.int64),
                "log": np.unique(np.round(np.logspace(0, 16, 200, base=2)).astype(np.int64))}
CONSTANTS = ("DIM", "TRAIN_LENGTH", "TRAIN_CONTEXTS", "FAR_LENGTH", "OFFSETS", "SCORE_OFFSETS", "SMOOTH_STEPS",
             "GRID", "GRID_OFFSETS", "BOUND_GROWTH", "LINEAR_RTOL", "SCORE_RTOL", "NORM_RTOL", "SEED")


def render(ctx: Context) -> str:
    m = M.compute()
    families = " · ".join(f"[`{f.name}` clauses]({f.page})" for f, _ in hooks.providers("matrix_encoding"))
    out = [spec_heading("The property matrix"), "", md.generated_by(f"from {md.source_path(M.__name__)}"), "",
           "Which desirable property does each position encoding have? Every cell below is the outcome of a "
           f"check run on the encoding's float64 reference when this page was generated "
           f"({md.module_link(M.__name__)}, `{M.__name__}.compute()`; "
           f"`python -m {M.__name__}` prints it), never a typed-in verdict. A failing cell links its "
           "counterexample; a passing cell links the clause that requires the property of plugged-in "
           f"implementations where there is one, else the definition of its check. [Landing page](index.md) · "
           f"{families}.", "",
           "## The matrix", ""]
    out += _matrix(m) + _encodings(m) + _counterexamples(m) + _passing(m) + _checks(m)
    for family, sections in hooks.providers("matrix_sections"):
        out += sections(ctx.for_family(family))
    return "\n".join(out + _plots(m))


def _cx_anchor(row: str, prop: str) -> str:
    return f"cx-{row.replace('_', '-')}-{prop.replace('_', '-')}"


def _cell_link(cell: M.Cell) -> str:
    """A failing cell links its counterexample on this page; a passing one its clause or check."""
    if not cell.holds:
        return f"#{_cx_anchor(cell.row, cell.prop)}"
    if cell.link.startswith("#"):
        return cell.link
    return clause_href(cell.link)


def _matrix(m: M.Matrix) -> list[str]:
    header = ["encoding"] + [M.PROPERTY_TITLES[p] for p in m.props]
    rows = []
    for r in m.rows:
        cells = [f"[{'holds' if m.cells[r, p].holds else '**fails**'}]({_cell_link(m.cells[r, p])})" for p in m.props]
        rows.append([md.esc(m.encodings[r].name)] + cells)
    n_fail = sum(not c.holds for c in m.cells.values())
    return md.table(header, rows) + ["", f"{len(m.cells)} cells, {len(m.cells) - n_fail} hold, {n_fail} fail.", ""]


def _encodings(m: M.Matrix) -> list[str]:
    paras = inspect.cleandoc(M.__doc__).split("\n\n")
    interface = next(x for x in paras if x.startswith("One ``Encoding`` interface"))
    probes = next(x for x in paras if x.startswith("Positions probed"))
    explanations = [e.notation.explanation for e in m.encodings.values() if e.notation.explanation]
    out = ["## The encodings", "", md.esc(" ".join([" ".join(interface.replace("``", "`").split())] + explanations)), ""]
    out += md.code("text", probes.replace("``", "")) + [""]
    out += md.table(["row", "encoding", "definition"],
                    [[f"`{r}`", md.esc(e.name), md.esc(e.definition)] for r, e in m.encodings.items()]) + [""]
    out += [f"Constants of the checks (`{M.__name__}`):", ""]
    out += md.table(["constant", "value"], [[f"`{c}`", f"`{getattr(M, c)!r}`"] for c in CONSTANTS]) + [""]
    beyond = M.beyond_positions()
    return out + [f"Probes past the training length: {beyond.size} positions from {int(beyond.min())} to "
                  f"{int(beyond.max())} (windows around 2^8 .. 2^30 and 2^31 - 1).", ""]


def _counterexamples(m: M.Matrix) -> list[str]:
    out = ["## Counterexamples", "",
           "Each failing cell, with the counterexample its check found (anchors `cx-<row>-<property>`).", ""]
    for (r, p), c in m.cells.items():
        if not c.holds:
            out += [f'<a id="{_cx_anchor(r, p)}"></a>', "",
                    f"- **{md.esc(m.encodings[r].name)}, {M.PROPERTY_TITLES[p]}**: "
                    f"{md.esc(c.evidence.split(': ', 1)[1])} ([the check](#{M.check_anchor(p)}))", ""]
    return out


def _passing(m: M.Matrix) -> list[str]:
    rows = []
    for (r, p), c in m.cells.items():
        if c.holds:
            link = _cell_link(c)
            by = f"[`{c.link}`]({link})" if not c.link.startswith("#") else f"[check]({link})"
            rows.append([md.esc(m.encodings[r].name), M.PROPERTY_TITLES[p], md.esc(c.evidence.split(": ", 1)[1]), by])
    return ["## What the passing cells checked", ""] \
        + md.table(["encoding", "property", "evidence", "decided by"], rows) + [""]


def _checks(m: M.Matrix) -> list[str]:
    from pe_spec.spec import naive

    out = ["## The checks", "",
           f"One function per property in `{M.__name__}`; its docstring is the definition, quoted here.", ""]
    for p in m.props:
        fn = M.CHECKS[p].doc_fn
        out += [f'<a id="{M.check_anchor(p)}"></a>', "", f"### {M.PROPERTY_TITLES[p]} (`{p}`)", "",
                f"*{md.esc(naive.PROPERTIES[p])}* (`{naive.__name__}.PROPERTIES`). Checked by `{fn.__name__}`:", ""]
        out += md.code("text", inspect.cleandoc(fn.__doc__)) + [""]
    return out


def _plots(m: M.Matrix) -> list[str]:
    heat = heatmap_data()
    notes = "".join(" " + e.heatmap_note for e in m.encodings.values() if e.heatmap_note)
    out = ["## Plots", "", "### Each encoding over positions x channels", "",
           "![encodings over positions and channels](plots/encoding_heatmaps.png)", "",
           f"*Positions 0..{HEATMAP_POSITIONS - 1} as one sequence of length {HEATMAP_POSITIONS} (so the normalized "
           f"encoding is p/{HEATMAP_POSITIONS}), {M.DIM} channels, each panel with its own colour scale. The dashed "
           f"line is the training length {M.TRAIN_LENGTH}: the learned table has no rows past it (blank).{notes}*", ""]
    out += md.fingerprint_comment(heat["fingerprint"])
    captions = [caption(OFFSET_DIM, OFFSET_BASE) for _, caption in hooks.providers("offset_caption")]
    out += ["### Dot product against offset", "",
            "![dot product against offset](plots/dot_product_vs_offset.png)", "",
            "*" + md.esc(" ".join([f"d = {OFFSET_DIM}, base {OFFSET_BASE:g}."] + captions)) + "*", ""]
    return out + md.fingerprint_comment(offset_data()["fingerprint"])


def heatmap_data() -> dict[str, Any]:
    """Each row's picture at positions 0..127 (one sequence of length 128), DIM channels; NaN where
    the encoding is undefined (the learned table past its 64 rows)."""
    p = np.arange(HEATMAP_POSITIONS, dtype=np.int64)
    data: dict[str, Any] = {"p": p}
    for key in M.rows():
        enc = M.make_encoding(key)
        if enc.heatmap is not None:
            data[key] = enc.heatmap(p)
            continue
        ok, rows = M.defined(enc, p, HEATMAP_POSITIONS)
        full = np.full((p.size, M.DIM), np.nan)
        full[ok] = rows
        data[key] = full
    data["fingerprint"] = md.fingerprint(*(np.nan_to_num(data[k], nan=-999.0) for k in M.rows()))
    return data


def offset_data() -> dict[str, Any]:
    """Every family's curves of score against offset on both grids, keyed '<family>_<grid>[_<tag>]',
    plus the grids ('k_lin', 'k_log') and a fingerprint over all of it in key order."""
    data: dict[str, Any] = {f"k_{grid}": k for grid, k in OFFSET_GRIDS.items()}
    curves: dict[str, list[hooks.OffsetCurve]] = {}
    for family, offset_curves in hooks.providers("offset_curves"):
        for grid, k in OFFSET_GRIDS.items():
            for c in offset_curves(k, OFFSET_DIM, OFFSET_BASE):
                data[f"{family.name}_{grid}" + (f"_{c.tag}" if c.tag else "")] = c.values
                curves.setdefault(grid, []).append(c)
    data["curves"] = curves
    data["fingerprint"] = md.fingerprint(*(data[k] for k in sorted(data) if k not in ("curves", "fingerprint")))
    return data
