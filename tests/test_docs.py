"""docs/ is generated from the registry and the code (pe_spec.docs); these tests fail when it drifts.

Also the registry self-test: every clause has a property test, and every property test cites a
registered clause.
"""
from __future__ import annotations

import importlib

import pytest

from pe_spec import clauses, docs, tolerance

REGENERATE = "run `python -m pe_spec.docs` and commit docs/"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, str]:
    """Generate the Markdown into a temporary folder (the plots are not needed to compare)."""
    out = tmp_path_factory.mktemp("docs")
    docs.write(out, plots=False)
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.md")}


@pytest.fixture(scope="module")
def checks():
    import pe_properties

    return pe_properties.load_checks()


def test_generated_markdown_matches_committed_docs(generated):
    stale = []
    for rel, text in sorted(generated.items()):
        committed = docs.DOCS_DIR / rel
        if not committed.is_file():
            stale.append(f"docs/{rel} is missing")
        elif committed.read_bytes() != text.encode("utf-8"):
            stale.append(f"docs/{rel} differs from what the registry and the code generate now")
    assert not stale, "generated docs are stale; " + REGENERATE + ":\n  " + "\n  ".join(stale)


def test_generation_is_deterministic(generated, tmp_path):
    docs.write(tmp_path, plots=False)
    again = {p.relative_to(tmp_path).as_posix(): p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.md")}
    assert again == generated


def test_plots_are_committed():
    missing = [rel for rel in docs.PLOTS if not (docs.DOCS_DIR / rel).is_file()]
    assert not missing, f"missing plots {missing}; {REGENERATE}"


def test_every_clause_has_its_anchor_in_its_family_page(generated):
    missing = []
    for c in clauses.all_clauses():
        page = docs.page_for(c.family)
        if f'<a id="{c.id}"></a>' not in generated.get(page, ""):
            missing.append(f"{c.id} (expected in docs/{page})")
        if f"[`{c.id}`]({page}#{c.id})" not in generated["clauses.md"]:
            missing.append(f"{c.id} (no link in docs/clauses.md)")
    assert not missing, "clauses without their anchor or index link: " + ", ".join(missing)


def test_every_clause_has_a_property_test(checks):
    cited = {check.clause_id for check in checks.values()}
    untested = [c.id for c in clauses.all_clauses() if not c.retired and c.id not in cited]
    assert not untested, f"clauses no property test cites: {untested}"


def test_every_property_test_cites_a_registered_clause(checks):
    known = {c.id: c for c in clauses.all_clauses()}
    bad = []
    for check_id, check in checks.items():
        if check.clause_id not in known:
            bad.append(f"{check_id} cites unknown clause {check.clause_id!r}")
        elif known[check.clause_id].retired:
            bad.append(f"{check_id} cites retired clause {check.clause_id!r}")
        if check_id.split("#", 1)[0] != check.clause_id:
            bad.append(f"{check_id} is registered under clause {check.clause_id!r}")
    assert not bad, "; ".join(bad)


def test_every_test_function_is_registered_and_marked(checks):
    """The pytest tests in the property modules are exactly the registered checks, each with its clause marker."""
    import pe_properties

    modules = [f"pe_properties.{m}" for m in pe_properties.PROPERTY_MODULES]
    seen = set()
    for name in modules:
        mod = importlib.import_module(name)
        for attr, obj in vars(mod).items():
            if attr.startswith("test") and callable(obj):
                check_id = getattr(obj, "check_id", None)
                assert check_id in checks, f"{name}.{attr} is a test that cites no clause (use @property_test)"
                marks = [m.args[0] for m in getattr(obj, "pytestmark", []) if m.name == "clause"]
                assert marks == [checks[check_id].clause_id], f"{name}.{attr} has clause markers {marks}"
                seen.add(check_id)
    assert seen == set(checks), f"checks with no test in {modules}: {sorted(set(checks) - seen)}"


def test_tolerance_doc_has_the_current_constants(generated):
    text = generated["tolerance.md"]
    names = ["PHASE_LOG_FACTOR", "PHASE_CONST", "AMPLITUDE_OUT", "AMPLITUDE_COMPUTE", "FLOOR_SUBNORMALS",
             "MAX_PHASE_DISPLACEMENT"]
    for name in names:
        value = getattr(tolerance, name)
        assert f"| `{name}` | {value!r} |" in text, f"docs/tolerance.md lacks {name} = {value!r}"
    committed = (docs.DOCS_DIR / "tolerance.md").read_text(encoding="utf-8")
    for name in names:
        value = getattr(tolerance, name)
        assert f"| `{name}` | {value!r} |" in committed, \
            f"committed docs/tolerance.md does not show {name} = {value!r}; {REGENERATE}"


def test_check_mode_reports_stale_files(tmp_path, capsys):
    docs.write(tmp_path, plots=False)
    (tmp_path / "rope.md").write_text("edited by hand\n", encoding="utf-8")
    assert docs.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "rope.md (differs" in err and "python -m pe_spec.docs" in err
    assert all(f"{rel} (missing)" in err for rel in docs.PLOTS)
