"""The published conformance table (docs/conformance.md) covers every implementation, renders
from its JSON, has a section for every registered family, and shows failures, skips and ratios
the way the legend says."""
from __future__ import annotations

import copy

import pytest

from pe_spec.publish import conformance
from pe_spec.spec import clauses, registry

ROW = {"family": "rope", "name": "k", "verdict": "nonconformant", "error": "", "duration_s": 1.0, "declared": {},
       "clauses": {"rope.reference": {"status": "fail", "worst_ratio": 2.7e6, "detail": "leaves the tolerance model"},
                   "rope.norm": {"status": "pass", "worst_ratio": 0.31, "detail": ""},
                   "rope.pass-through": {"status": "n/a", "worst_ratio": None, "detail": "not applicable: full"},
                   "device.agreement": {"status": "not verified", "worst_ratio": None, "detail": "not verified"}}}
TABLE = {"generated": "2026-01-01", "profile": "ci", "pe_spec_version": "0", "spec_version": "2026.1",
         "environment": {"python": "3.11", "torch": "2", "devices": ["cpu"], "triton_interpret": "1",
                         "libraries": {"transformers": "5"}},
         "rows": {"transformers:llama": ROW}}


def test_render_shows_status_ratio_and_where_failures_are_investigated():
    md = conformance.render(TABLE)
    line = next(l for l in md.splitlines() if l.startswith("| `transformers:llama`"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    header = next(l for l in md.splitlines() if l.startswith("| implementation"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    by_col = dict(zip(cols, cells))
    assert by_col["`reference`"] == "**FAIL** 2.7e+06"
    assert by_col["`norm`"] == "pass 0.31"
    assert by_col["`pass-through`"] == "n/a"
    assert by_col["`device.agreement`"] == "not verified"
    assert "[findings/transformers.md](findings/transformers.md)" in md
    assert "TRITON_INTERPRET=1" in md and "transformers 5" in md


def test_published_table_covers_every_implementation_and_is_rendered_from_its_json():
    table = conformance.load_table()
    assert table is not None, "docs/conformance.json missing: run python -m pe_spec.publish.conformance"
    assert list(table["rows"]) == conformance.all_targets(), (
        "docs/conformance.json is stale (an implementation was added, removed or renamed): "
        "run python -m pe_spec.publish.conformance")
    assert conformance.TABLE_MD.read_text() == conformance.render(table) + "\n", \
        "docs/conformance.md differs from its JSON: run python -m pe_spec.publish.conformance"
    for target, row in table["rows"].items():
        assert not row["error"], f"{target}: {row['error']}"
        assert row["clauses"], f"{target}: no clause results recorded"


def test_every_failure_in_the_table_has_a_findings_page_that_names_it():
    table = conformance.load_table()
    assert table is not None
    for target, row in table["rows"].items():
        for cid, c in row["clauses"].items():
            if c["status"] in ("fail", "error"):
                page = conformance.DOCS / "findings" / f"{conformance.library_of(target)}.md"
                assert page.exists(), f"{target} fails {cid} but {page} does not exist"
                assert cid in page.read_text(), f"{page} does not discuss {target}'s failure of {cid}"


def _row_of(family: str) -> dict:
    """A passing row citing the family's first clause and one universal clause."""
    own = next(c.id for c in clauses.all_clauses() if c.prefix == family)
    return {"family": family, "name": f"{family}_kernel", "verdict": "conformant", "error": "", "duration_s": 1.0,
            "declared": {}, "clauses": {own: {"status": "pass", "worst_ratio": 0.5, "detail": ""},
                                        "impl.determinism": {"status": "pass", "worst_ratio": None, "detail": ""}}}


def test_every_registered_family_with_rows_has_its_section_in_registry_order():
    table = copy.deepcopy(TABLE)
    table["rows"] = {f"examples:{f.name}_kernel": _row_of(f.name) for f in reversed(registry.families())}
    lines = conformance.render(table).splitlines()
    sections = [line[3:] for line in lines if line.startswith("## ") and not line.startswith("## Failures")]
    assert sections == list(registry.names())
    for f in registry.families():
        section = lines[lines.index(f"## {f.name}"):]
        header = next(line for line in section if line.startswith("| implementation"))
        own = next(c.id for c in clauses.all_clauses() if c.prefix == f.name)
        assert f"`{own.split('.', 1)[1]}`" in header and "`impl.determinism`" in header, header
        assert next(line for line in section if line.startswith("| `")).startswith(f"| `examples:{f.name}_kernel` |")


def test_a_family_without_rows_has_no_section():
    first, *others = registry.names()
    md = conformance.render(TABLE | {"rows": {"examples:k": _row_of(first)}})
    assert f"## {first}" in md
    assert not any(f"## {name}" in md for name in others)


def test_a_row_of_an_unregistered_family_is_an_error():
    table = copy.deepcopy(TABLE)
    table["rows"]["examples:alibi_kernel"] = dict(ROW, family="no-such-family")
    with pytest.raises(ValueError, match="examples:alibi_kernel.*no-such-family"):
        conformance.render(table)
