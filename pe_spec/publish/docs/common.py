"""What several pages share: which page holds a clause, the property tests citing each clause,
the derivation verdicts of one generation, and the renderers of a clause section and of a
derivations table."""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping

from pe_spec.spec import clauses, registry
from pe_spec.spec.clauses import Clause
from pe_spec.spec.family import Family
from pe_spec.spec.symbolic import resolve

from .. import markdown as md

UNIVERSAL_PAGE = "impl.md"      # the impl.* and device.* clauses


def page_for(prefix: str) -> str:
    """The page holding the clauses whose IDs start with ``prefix`` (a family's name, 'impl', 'device')."""
    if prefix in clauses.UNIVERSAL_PREFIXES:
        return UNIVERSAL_PAGE
    return registry.get(prefix).page


def clause_href(clause_id: str) -> str:
    """Where a clause's section is, from any page in docs/: 'page.md#id'."""
    return f"{page_for(clauses.get(clause_id).prefix)}#{clause_id}"


# --------------------------------------------------------------------------------------------
# property tests citing clauses

@dataclass(frozen=True)
class CitingTest:
    check_id: str
    module: str              # the property module defining the pytest test
    test: str                # the test's name
    dtypes: tuple[str, ...]
    doc: str                 # the check's first docstring paragraph


def citing_tests() -> dict[str, list[CitingTest]]:
    """clause id -> the property tests citing it (pe_properties.engine.CHECKS), in check-id order."""
    import pe_properties

    checks = pe_properties.load_checks()
    tests: dict[str, tuple[str, str, Any]] = {}
    for name in pe_properties.property_modules():
        for attr, obj in vars(sys.modules[name]).items():
            cid = getattr(obj, "check_id", None)
            if isinstance(cid, str) and callable(obj):
                tests[cid] = (name, attr, obj)
    by_clause: dict[str, list[CitingTest]] = {}
    for check_id in sorted(checks):
        check = checks[check_id]
        module, attr, test = tests.get(check_id, (check.fn.__module__, check.fn.__name__, None))
        dtypes: tuple[str, ...] = ()
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize" and mark.args and mark.args[0] == "dtype":
                dtypes = tuple(mark.args[1])
        by_clause.setdefault(check.clause_id, []).append(
            CitingTest(check_id, module, attr, dtypes, md.paragraph(check.fn.__doc__)))
    return by_clause


# --------------------------------------------------------------------------------------------
# derivations (resolved by the spec: pe_spec.spec.symbolic.resolve, which `pe-spec explain` uses too)

def canonical(dotted: str) -> str:
    """The module.function name a derivation is defined under, whichever name cites it."""
    fn = resolve(dotted)
    return f"{fn.__module__}.{fn.__name__}"


class Verdicts:
    """sympy verdicts, each derivation decided once per generation (a clause section and the
    derivations table share it)."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def __call__(self, dotted: str) -> Any:
        key = canonical(dotted)
        if key not in self._cache:
            from pe_spec.spec.symbolic import prove_zero

            self._cache[key] = prove_zero(resolve(dotted)())
        return self._cache[key]

    def markdown(self, dotted: str) -> str:
        v = self(dotted)
        word = v.outcome.value.upper()
        text = str(v)[len(word) + 2:]
        mark = "" if word == "PROVEN" else " (not a proof)"
        return f"**{word}**{mark}, {md.esc(text)}"


@dataclass(frozen=True)
class Context:
    """What page renderers and family hooks read: the tests citing each clause, this
    generation's verdicts, and (for a family's hooks) the family."""

    checks: Mapping[str, list[CitingTest]]
    verdicts: Verdicts = field(default_factory=Verdicts)
    family: Family | None = None

    def for_family(self, family: Family) -> "Context":
        return replace(self, family=family)


# --------------------------------------------------------------------------------------------
# clause sections and derivations tables

def clause_section(c: Clause, ctx: Context, *, after_math: Iterable[str] = ()) -> list[str]:
    """One clause, anchored by its ID: statement, math, rationale, derivation, tests."""
    out = [f'<a id="{c.id}"></a>', "", f"### `{c.id}`: {md.esc(c.title)}", ""]
    status = f"**{c.level}**, since {c.since}" + (" (**retired**: kept so the ID is never reused)" if c.retired else "")
    out += [status, "", f"> {md.esc(c.statement)}", ""]
    out += md.code("text", c.math) + [""]
    out += list(after_math)
    out += [f"**Why it holds.** {md.esc(c.rationale)}", ""]
    out += [f"**Guards against.** {md.esc(c.guards_against)}", ""]
    if c.derivation:
        fn = resolve(c.derivation)
        out += [f"**Derivation.** `{c.derivation}` ({md.module_link(fn.__module__)}): {md.esc(md.paragraph(fn.__doc__))}",
                "", f"sympy verdict, computed when this page was generated: {ctx.verdicts.markdown(c.derivation)}", ""]
    else:
        out += ["**Derivation.** none cited: the property follows from the definition "
                "(see *Why it holds*).", ""]
    if c.references:
        out += ["**References.**", ""] + [f"- {md.reference_link(r)}" for r in c.references] + [""]
    tests = ctx.checks.get(c.id, [])
    if tests:
        out += ["**Checked by.**", ""]
        for t in tests:
            dt = f", dtypes {', '.join(t.dtypes)}" if t.dtypes else ""
            variant = f" (check `{t.check_id}`)" if t.check_id != c.id else ""
            doc = f": {md.esc(t.doc)}" if t.doc else ""
            out.append(f"- `{t.test}` in {md.module_link(t.module)}{variant}{dt}{doc}")
        out.append("")
    elif not c.retired:
        out += ["**Checked by.** no property test cites this clause (tests/test_docs.py fails on this).", ""]
    return out


def derivations_table(module_name: str, clause_list: list[Clause], verdicts: Verdicts) -> list[str]:
    """Every entry of a symbolic module's DERIVATIONS: its identity, verdict and citing clauses."""
    mod = importlib.import_module(module_name)
    cited: dict[str, list[str]] = {}
    for c in clause_list:
        if c.derivation:
            cited.setdefault(canonical(c.derivation), []).append(c.id)
    rows = []
    for name in mod.DERIVATIONS:
        dotted = canonical(f"{module_name}.{name}")
        by = ", ".join(f"[`{cid}`](#{cid})" for cid in cited.get(dotted, [])) or "no clause (background)"
        rows.append([f"`{name}`", md.esc(md.paragraph(getattr(mod, name).__doc__)), verdicts.markdown(dotted), by])
    return md.table(["derivation", "identity (zero when the property holds)", "verdict", "cited by"], rows)


def clauses_with_prefix(prefix: str) -> list[Clause]:
    return [c for c in clauses.all_clauses() if c.prefix == prefix]


def spec_heading(title: str) -> str:
    from pe_spec import SPEC_VERSION

    return f"# {title} (spec {SPEC_VERSION})"
