"""The family registry is complete and consistent, and the floors import downward only.

Adding a family is docs/adding-a-family.md's recipe; these are the checks that fail when a piece of
it is missing (the others are in test_docs.py, test_matrix.py, test_conformance.py,
test_correct_kernels.py and test_known_bugs.py).
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from pe_spec.spec import clauses, registry
from pe_spec.spec.family import Family

REPO = Path(__file__).resolve().parents[1]
FAMILIES_DIR = REPO / "pe_spec" / "families"


def test_every_family_package_is_registered():
    packages = {p.name for p in FAMILIES_DIR.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(registry.names()), (
        f"family packages not in pe_spec.spec.registry.FAMILY_PACKAGES: {sorted(packages - set(registry.names()))}; "
        f"registered without a package: {sorted(set(registry.names()) - packages)}")


@pytest.mark.parametrize("name", registry.names())
def test_record_names_modules_that_exist(name):
    family = registry.get(name)
    assert isinstance(family, Family) and family.package == f"pe_spec.families.{name}"
    for module in (family.reference, family.symbolic, family.examples, family.properties, family.publish):
        if module is not None:
            importlib.import_module(module)
    props = importlib.import_module(family.properties)
    for attr in ("CASE", "examples", "compile_examples"):
        assert hasattr(props, attr), f"{family.properties} does not export {attr}"
    assert props.CASE.family == name and props.CASE.config_type is family.config
    assert set(family.declarations) >= {"dtypes", "devices", "max_position", "compile", "name", family.required}


@pytest.mark.parametrize("name", registry.names())
def test_universal_meanings_name_universal_clauses(name):
    family = registry.get(name)
    universal = {c.id for c in clauses.all_clauses() if c.universal}
    for table in (family.universal, family.not_applicable):
        assert set(table) <= universal, f"{name}: not universal clauses {sorted(set(table) - universal)}"


@pytest.mark.parametrize("name", registry.names())
def test_every_clause_of_a_family_starts_with_its_name(name):
    mine = [c for c in clauses.all_clauses() if c.applies_to == (name,)]
    assert mine and all(c.id.startswith(f"{name}.") for c in mine)


def test_public_module_of_each_family():
    import pe_spec

    for name in registry.names():
        module = getattr(pe_spec, name)
        assert module.FAMILY is registry.get(name)
        assert callable(module.implementation) and module.Config is registry.get(name).config


# ---- the floors ----
# Who may import whom (by top-level part of the dotted name); anything not listed is a third-party
# or standard library module. The specification imports neither the harness nor publishing.
FLOORS = {
    "pe_spec.spec": {"pe_spec.spec"},
    "pe_spec.families": {"pe_spec", "pe_spec.spec", "pe_spec.families"},
    "pe_spec.examples": {"pe_spec.spec", "pe_spec.families"},
    "pe_spec.adapters": {"pe_spec", "pe_spec.spec", "pe_spec.families", "pe_spec.adapters"},
    "pe_properties": {"pe_spec", "pe_spec.spec", "pe_spec.families", "pe_spec.adapters", "pe_spec.examples",
                      "pe_properties"},
    "pe_spec.harness": {"pe_spec", "pe_spec.spec", "pe_spec.families", "pe_spec.adapters", "pe_spec.examples",
                        "pe_properties", "pe_spec.harness"},
}
OURS = ("pe_spec", "pe_properties")


def _floor(dotted: str) -> str:
    if dotted.startswith("pe_properties"):
        return "pe_properties"
    parts = dotted.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and parts[1] in {
        "spec", "families", "examples", "adapters", "harness", "publish"} else "pe_spec"


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "properties":
        parts[0] = "pe_properties"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, relative ones resolved."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            out += [(node.lineno, f"{base}.{a.name}" if a.name != "*" else base) for a in node.names]
    return out


def _files():
    for root in ("pe_spec", "properties"):
        yield from sorted((REPO / root).rglob("*.py"))


def test_floors_import_downward_only():
    bad = []
    for path in _files():
        here = _floor(_module_name(path))
        allowed = FLOORS.get(here)
        if allowed is None:      # pe_spec (the package root) and publishing may import anything
            continue
        for line, module in _imports(path):
            if not module.startswith(OURS):
                continue
            target = _floor(module)
            if target != here and target not in allowed:
                bad.append(f"{path.relative_to(REPO)}:{line} ({here}) imports {module} ({target})")
    assert not bad, "imports against the floors:\n  " + "\n  ".join(bad)
