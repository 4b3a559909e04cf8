"""docs/ is generated from the registry and the code (pe_spec.publish.docs); these tests fail when it drifts.

Also the registry self-test: every clause has a property test, and every property test cites a
registered clause; every registered family appears on every page that lists families; and the
generic floors (spec, harness, publish, examples, the universal property tests) never name a family.
"""
from __future__ import annotations

import ast
import importlib
import io
import re
import tokenize
from pathlib import Path

import pytest

from pe_spec.publish import docs
from pe_spec.spec import clauses, registry, tolerance

REGENERATE = "run `python -m pe_spec.publish.docs` and commit docs/"
REPO = Path(__file__).resolve().parents[1]


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
        page = docs.page_for(c.prefix)
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

    modules = pe_properties.property_modules()
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
    names = ["PHASE_LOG_FACTOR", "PHASE_CONST", "AMPLITUDE_OUT", "AMPLITUDE_COMPUTE", "FLOOR_NORMALS",
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
    assert "rope.md (differs" in err and "python -m pe_spec.publish.docs" in err
    assert all(f"{rel} (missing)" in err for rel in docs.PLOTS)


# --- every registered family on every page that lists families ---------------------------------

def test_every_family_is_on_the_landing_page(generated):
    index = generated["index.md"]
    for f in registry.families():
        assert f"]({f.page})" in index, f"index.md does not link {f.name}'s page {f.page}"
        assert f"(`@{f.name}.implementation`)" in index, f"index.md has no plug-in contract section for {f.name}"
        assert f"from pe_spec import {f.name}\n" in index, f"index.md shows no example kernel of {f.name}"
        assert f"`{f.signature}`" in index, f"index.md does not state {f.name}'s function under test"
    for page in ("adding-a-family.md", "known-bugs-matrix.md", "impl.md", "tolerance.md", "property-matrix.md",
                 "conformance.md", "performance.md", "clauses.md"):
        assert f"]({page})" in index, f"index.md does not link {page}"


def test_every_family_has_its_page_with_an_anchor_per_clause(generated):
    for f in registry.families():
        page = generated.get(f.page)
        assert page is not None, f"no docs/{f.page} for family {f.name}"
        own = [c.id for c in clauses.all_clauses() if c.prefix == f.name]
        assert own, f"family {f.name} has no clauses"
        missing = [cid for cid in own if f'<a id="{cid}"></a>' not in page]
        assert not missing, f"docs/{f.page} lacks the anchors of {missing}"


def test_impl_page_says_what_each_universal_clause_means_for_every_family(generated):
    from pe_spec.publish import markdown as md

    text = generated["impl.md"]
    for c in clauses.all_clauses():
        if not c.universal:
            continue
        section = text.split(f'<a id="{c.id}"></a>', 1)[1].split("<a id=", 1)[0]
        for f in registry.families():
            if c.id in f.not_applicable:
                meaning = f"**not applicable**: {md.esc(f.not_applicable[c.id])}"
            else:
                meaning = md.esc(f.universal.get(c.id, "as stated"))
            assert f"| [`{f.name}`]({f.page}) | {meaning} |" in section, f"impl.md: {c.id} for {f.name}"


def test_every_family_is_in_the_property_matrix(generated):
    from pe_spec.publish import matrix as M

    text = generated["property-matrix.md"]
    for f in registry.families():
        name = M.make_encoding(f.name).name
        assert f"\n| {name} | [" in text, f"property-matrix.md: the matrix has no row for {f.name}"
        assert f"\n| `{f.name}` | {name} | " in text, f"property-matrix.md: the encodings table has no row for {f.name}"


# --- generic floors never name a family -----------------------------------------------------------

# Modules that every family goes through: they reach a family only through the registry. The
# family-specific floors (pe_spec/families/, properties/<family>/, pe_spec/publish/families/)
# and pe_spec/adapters/ (each adapter drives one library's kernels of known families) may.
GENERIC_FLOORS = {"pe_spec/spec": "**/*.py", "pe_spec/harness": "**/*.py", "pe_spec/publish": "**/*.py",
                  "pe_spec/examples": "**/*.py", "properties": "*.py"}
NOT_GENERIC = ("pe_spec/publish/families/",   # one publish module per family
               "pe_spec/spec/registry.py")    # FAMILY_PACKAGES: the one list that names them


def _docstrings(tree: ast.AST) -> set[tuple[int, int]]:
    """(line, column) where each module, class and function docstring starts."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add((first.value.lineno, first.value.col_offset))
    return out


def family_names_in(path: Path) -> list[str]:
    """'line: token' for every name or string literal (docstrings and comments excepted) that names a
    registered family, as a word or part of an identifier ('RoPE', 'rope_allowance', 'families.rope')."""
    source = path.read_text(encoding="utf-8")
    docstrings = _docstrings(ast.parse(source))
    word = re.compile(r"(?<![a-z])(" + "|".join(map(re.escape, registry.names())) + r")(?![a-z])")
    kinds = {tokenize.NAME, tokenize.STRING} | ({tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set())
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in kinds and tok.start not in docstrings and word.search(tok.string.lower()):
            found.append(f"{tok.start[0]}: {tok.string[:80]}")
    return found


@pytest.mark.parametrize("floor", sorted(GENERIC_FLOORS))
def test_generic_floors_never_name_a_family(floor):
    violations = []
    for path in sorted((REPO / floor).glob(GENERIC_FLOORS[floor])):
        rel = path.relative_to(REPO).as_posix()
        if not rel.startswith(NOT_GENERIC):
            violations += [f"{rel}:{hit}" for hit in family_names_in(path)]
    assert not violations, (f"{floor} names a family outside docstrings and comments (reach families through "
                            "pe_spec.spec.registry and their records instead):\n  " + "\n  ".join(violations))


def test_the_family_name_scan_finds_names_and_skips_docs(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('''"""RoPE and sinusoidal in a docstring are fine."""
from pe_spec.spec.tolerance import rope_allowance  # rope in a comment is fine
x = "pe_spec.families.sinusoidal"
property = europe = "RoPE scaling"
def f():
    """rope."""
''', encoding="utf-8")
    hits = family_names_in(sample)
    assert [h.split(":")[0] for h in hits] == ["2", "3", "4"], hits
