"""impl.md: the clauses every family's kernels must meet (impl.*, device.*), each with what it
means for every registered family (Family.universal, Family.not_applicable)."""
from __future__ import annotations

import importlib

import pe_properties
from pe_spec.spec import clauses, registry, universal
from pe_spec.spec.clauses import Clause

from .. import markdown as md
from .common import Context, clause_section, clauses_with_prefix, spec_heading


def render(ctx: Context) -> str:
    test_modules = sorted({c.fn.__module__ for c in pe_properties.load_checks().values() if c.family is None})
    written_once = " ".join(
        f"From {md.module_link(name)}: {md.esc(md.paragraph(importlib.import_module(name).__doc__, 1))}"
        for name in test_modules)
    out = [spec_heading("Implementation and device clauses"), "",
           md.generated_by("from the clause registry and the code"), "",
           f"{md.esc(md.paragraph(universal.__doc__))} {written_once} [Index of all clauses](clauses.md) · "
           "[tolerance model](tolerance.md) · [landing page](index.md).", ""]
    for prefix in clauses.UNIVERSAL_PREFIXES:
        out += [f"## `{prefix}.*`", ""]
        for c in clauses_with_prefix(prefix):
            out += clause_section(c, ctx, after_math=per_family(c))
    return "\n".join(out)


def per_family(c: Clause) -> list[str]:
    """What the clause means for each registered family: its record's wording, 'not applicable'
    with the reason, or 'as stated'."""
    rows = []
    for f in registry.families():
        if c.id in f.not_applicable:
            meaning = f"**not applicable**: {md.esc(f.not_applicable[c.id])}"
        else:
            meaning = md.esc(f.universal.get(c.id, "as stated"))
        rows.append([f"[`{f.name}`]({f.page})", meaning])
    return ["**Per family.**", ""] + md.table(["family", "what it requires"], rows) + [""]
