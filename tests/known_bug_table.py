"""The known-bug table, shared by every family: its row type, how a row is judged, and the files.

tests/known_bugs/<family>/ holds one module per known-buggy kernel (a correct kernel with one bug,
documented in its docstring: Bug, Regime, Mirrors, Caught by) and ``_table.py``, the family's row
list ``BUGS`` (module name -> Bug). A row names:

  main        the clause meant to catch the bug;
  fails       every clause the bug itself violates (main, and the clauses that re-check the output
              against the reference): required to fail;
  incidental  clauses whose property holds for the kernel in exact arithmetic, but whose check the
              kernel's own rounding (at its wrong frequencies, on channels it should not touch)
              exceeds within the tolerance model on examples that reach that regime: allowed to
              fail, not required (each entry says why, and the module docstring names it);
  must_pass   clauses whose property holds for the kernel: required to pass.

Two ways to judge a row, both seeded exactly as ``pe-spec check`` is (pe_properties.engine):

- ``judge_in_process``: the row's named clauses (main, fails, must_pass but LEFT_TO_THE_MATRIX)
  through the clause engine in this process: what the own-test suite does for every row (seconds
  per row);
- ``judge_full``: a complete ``pe-spec check`` in a fresh interpreter, every clause, and nothing
  outside fails and incidental may fail: what the suite does for one row per family, and what
  ``python tests/known_bug_matrix.py`` does for every row to publish docs/known-bugs-matrix.md,
  which the cheap tests compare with the rows.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
KNOWN_BUGS = Path(__file__).resolve().parent / "known_bugs"
RUN_TIMEOUT_S = 900

# must_pass clauses the in-process judge leaves to the full matrix: each re-runs every example of
# the kernel in another setting (torch.compile, once per dtype; a bf16 default dtype and a fresh
# interpreter), two thirds of a row's time, and their verdict on a row whose bug is in its
# arithmetic says nothing the row's other clauses do not. Every row's full check still requires
# them to pass (test_every_row_agrees_with_the_full_matrix), and so does every correct kernel's
# (tests/test_correct_kernels.py). A row that requires one of them to fail still runs it here.
LEFT_TO_THE_MATRIX = frozenset({"impl.compile", "impl.environment"})
SECTIONS = ("Bug:", "Regime:", "Mirrors:", "Caught by:")
# What a Mirrors paragraph must cite: a known-bugs id, a catalogue section, or an upstream thread.
CITATION = re.compile(r"B-[A-Z]+-\d\d|known-bugs(?:-families)?\.md section \d+|[\w.-]+/[\w.-]+ #\d+")


@dataclass(frozen=True)
class Bug:
    """One row of a known-bug table."""

    main: str                                    # the clause meant to catch it
    fails: frozenset[str]                        # every clause the bug violates: must fail
    reference_clause: str                        # the family's reference-agreement clause
    incidental: dict[str, str] = field(default_factory=dict)  # may fail, through the kernel's rounding
    must_pass: frozenset[str] = frozenset()      # the property holds for this kernel: must pass

    def required(self, accelerator: bool) -> set[str]:
        """Clauses that must fail. device.agreement first checks the output against the reference:
        on a machine with an accelerator it fails exactly when the reference clause does."""
        out = set(self.fails)
        if accelerator and self.reference_clause in out:
            out.add("device.agreement")
        return out

    def allowed(self, accelerator: bool) -> set[str]:
        """Clauses that may fail: the required ones and the incidental ones."""
        return self.required(accelerator) | set(self.incidental)

    def named(self, accelerator: bool) -> set[str]:
        """The clauses the in-process judge runs: those that must fail and those that must pass,
        but for the must_pass ones LEFT_TO_THE_MATRIX."""
        return self.required(accelerator) | (set(self.must_pass) - LEFT_TO_THE_MATRIX)


def row_builder(reference_clause: str) -> Callable[..., Bug]:
    """bug(main, *fails, incidental=..., must_pass=...) for a family's table; fails may be sets."""

    def bug(main: str, *fails: str | frozenset, incidental: dict | None = None, must_pass: tuple = ()) -> Bug:
        flat: set[str] = {main}
        for f in fails:
            flat |= set(f) if isinstance(f, frozenset) else {f}
        return Bug(main, frozenset(flat), reference_clause, dict(incidental or {}), frozenset(must_pass))

    return bug


# ---- the files ----

def families() -> list[str]:
    """The families with a known-bug directory, in registry order."""
    from pe_spec.spec import registry

    return [name for name in registry.names() if (KNOWN_BUGS / name).is_dir()]


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=None)
def table(family: str) -> dict[str, Bug]:
    """The family's rows (tests/known_bugs/<family>/_table.py: BUGS)."""
    return _import(KNOWN_BUGS / family / "_table.py", f"known_bug_table_{family}").BUGS


def rows() -> list[tuple[str, str]]:
    """(family, module) of every row, family by family."""
    return [(f, m) for f in families() for m in sorted(table(f))]


def kernel_file(family: str, module: str) -> Path:
    return KNOWN_BUGS / family / f"{module}.py"


def kernel(family: str, module: str):
    """The row's Implementation (its module's ``kernel``), imported once."""
    name = f"known_bug_{family}_{module}"
    mod = sys.modules.get(name) or _import(kernel_file(family, module), name)
    mod.kernel.target = f"{kernel_file(family, module)}:kernel"   # impl.environment#fresh-process reloads it
    return mod.kernel


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def check_table(family: str, minimum: int) -> None:
    """The table has one row per module (at least minimum), naming registered clauses that apply
    to the family, with no clause both failing and passing."""
    from pe_spec.spec import clauses

    bugs = table(family)
    directory = KNOWN_BUGS / family
    modules = {p.stem for p in directory.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(bugs), f"{family}: modules without a row: {sorted(modules - set(bugs))}; " \
                                 f"rows without a module: {sorted(set(bugs) - modules)}"
    assert len(bugs) >= minimum, f"{family}: {len(bugs)} known bugs, fewer than {minimum}"
    applicable = {c.id for c in clauses.applicable(family)}
    for module, row in bugs.items():
        named = {row.main} | row.fails | set(row.incidental) | row.must_pass
        assert named <= applicable, f"{family}/{module}: clauses that do not apply: {sorted(named - applicable)}"
        assert not (row.must_pass & row.allowed(accelerator=True)), f"{family}/{module}: a clause both fails and must pass"
        assert not (row.fails & set(row.incidental)), f"{family}/{module}: a clause is both genuine and incidental"


def check_docstring(family: str, module: str) -> None:
    """The module's docstring has its four paragraphs, cites what it mirrors, and its 'Caught by'
    names the main clause (marked '(main' or 'only'), every clause the row expects to fail, and
    which failures are incidental."""
    from pe_spec.spec import clauses

    doc = docstring(kernel_file(family, module))
    for section in SECTIONS:
        assert section in doc, f"{family}/{module}: docstring has no '{section}' paragraph"
    mirrors = doc.split("Mirrors:", 1)[1].split("Caught by:", 1)[0]
    assert CITATION.search(mirrors), \
        f"{family}/{module}: 'Mirrors:' cites no known-bugs id, catalogue section or owner/repo #N thread"
    clause_id = re.compile(r"\b(?:" + "|".join(map(re.escape, {c.prefix for c in clauses.all_clauses()}))
                           + r")\.[a-z][a-z-]*[a-z]\b")
    caught_by = doc.split("Caught by:", 1)[1]
    named = set(clause_id.findall(caught_by))
    row = table(family)[module]
    assert row.main in named, f"{family}/{module}: 'Caught by:' does not name the main clause {row.main}"
    assert re.search(re.escape(row.main) + r" (\(main|only)", caught_by.replace("\n", " ")), \
        f"{family}/{module}: 'Caught by:' does not mark {row.main} as the main clause ('(main' or 'only')"
    missing = (row.fails | set(row.incidental)) - named
    assert not missing, f"{family}/{module}: 'Caught by:' does not name {sorted(missing)}, which the table expects to fail"
    if row.incidental:
        assert "incidental" in caught_by, f"{family}/{module}: 'Caught by:' does not say which failures are incidental"
    unknown = set(clause_id.findall(doc)) - set(clauses.ids())
    assert not unknown, f"{family}/{module}: docstring names unknown clause ids {sorted(unknown)}"


# ---- judging ----

def accelerator_present() -> bool:
    import torch

    return torch.cuda.device_count() > 0


def statuses_of(results: list) -> dict[str, Any]:
    """clause id -> ClauseResult, as a report aggregates the engine's results."""
    from pe_spec.harness.report import aggregate

    return {c.id: c for c in aggregate(results)}


def judge_in_process(family: str, module: str) -> dict[str, Any]:
    """Run the row's named clauses through the clause engine here (ci profile) and assert that
    every required clause fails, every must_pass clause passes, and nothing errors."""
    from pe_properties import engine, outcomes

    from pe_spec.harness.profiles import run_settings

    row = table(family)[module]
    impl = kernel(family, module)
    accelerator = accelerator_present()
    outcomes.TARGET = f"{kernel_file(family, module)}:kernel"
    by_id = statuses_of(engine.run(impl, run_settings("ci"), sorted(row.named(accelerator))))
    assert set(by_id) == row.named(accelerator), f"{family}/{module}: ran {sorted(by_id)}"
    errors = {cid: _first_line(c.detail) for cid, c in by_id.items() if c.status == "error"}
    assert not errors, f"{family}/{module}: the suite crashed instead of judging: {errors}"
    lines = []
    for cid in sorted(row.required(accelerator)):
        if by_id[cid].status != "fail":
            lines.append(f"  expected FAIL {cid}, got {by_id[cid].status} (worst ratio {by_id[cid].worst_ratio})")
    for cid in sorted(row.must_pass - LEFT_TO_THE_MATRIX):
        c = by_id[cid]
        if c.status != "pass":
            lines.append(f"  {cid} reports {c.status} (worst ratio {c.worst_ratio}) although its property holds for "
                         f"this kernel: {_first_line(c.detail)}\n    {_reproduce(c.tests)}")
    assert not lines, f"{family}/{module}: named clauses differ from the table\n" + "\n".join(lines)
    replay_failures(family, module, by_id, skip=("impl.compile",))
    return by_id


def replay_failures(family: str, module: str, by_id: dict, *, skip: tuple[str, ...] = ()) -> None:
    """Every failure's printed example, replayed alone as `pe-spec repro` does (engine.run_check),
    fails again with the same words and ratio: each repro the suite prints reproduces. impl.compile's
    replays recompile (seconds each): tests/test_known_bugs.py replays them in the slower tier."""
    import math

    from pe_properties import engine, outcomes
    from pe_properties.test_universal import fresh_compilations

    impl = kernel(family, module)
    for cid, c in by_id.items():
        if cid in skip:
            continue
        for t in c.tests:
            if t.status != "fail" or not t.failure:
                continue
            f = t.failure
            with fresh_compilations():
                try:
                    engine.run_check(f["check_id"], impl, engine.Example(**{**f["example"],
                                     "lead": tuple(f["example"]["lead"]), "positions": tuple(f["example"]["positions"])}))
                except outcomes.ClauseViolation as e:
                    again = e.fields
                else:
                    raise AssertionError(f"{family}/{module}: {t.nodeid}'s printed example holds when replayed: "
                                         f"{f['reproduce']}")
            assert again["what"] == f["what"], (t.nodeid, again["what"], f["what"])
            if f["ratio"] is not None and math.isfinite(f["ratio"]):
                assert math.isclose(again["ratio"], f["ratio"], rel_tol=1e-6), (t.nodeid, again["ratio"], f["ratio"])


def run_check(kernel_path: Path, report: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pe_spec", "check", f"{kernel_path}:kernel", "-q", "--report",
                           str(report)], cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)


def full_report(family: str, module: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """A complete `pe-spec check` of the row's kernel in a fresh interpreter, and its report."""
    report_path = tmp_path / f"{family}-{module}.json"
    proc = run_check(kernel_file(family, module), report_path)
    assert report_path.exists(), f"no report written (exit {proc.returncode})\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc, json.loads(report_path.read_text())


def judge_report(family: str, module: str, report: dict, returncode: int | None = 1) -> None:
    """A full report fails exactly as the row says: every required clause fails, nothing outside
    fails and incidental does, every must_pass clause passes, nothing errors."""
    row = table(family)[module]
    by_id = {c["id"]: c for c in report["clauses"]}
    failed = {cid for cid, c in by_id.items() if c["status"] in ("fail", "error")}
    accelerator = report["environment"]["devices"] != ["cpu"]
    required, allowed = row.required(accelerator), row.allowed(accelerator)
    errors = {cid: _first_line(c["detail"]) for cid, c in by_id.items() if c["status"] == "error"}
    assert not errors, f"{family}/{module}: the suite crashed instead of judging: {errors}"
    if returncode is not None:
        assert returncode == 1, f"{family}/{module}: exit {returncode}, expected 1 (nonconformant)"
    assert by_id[row.main]["status"] == "fail", f"{family}/{module}: its main clause {row.main} reports {by_id[row.main]['status']}"
    missing, unexpected = required - failed, failed - allowed
    if missing or unexpected:
        lines = [f"{family}/{module}: failed clauses differ from the table"]
        for cid in sorted(unexpected):
            lines.append(f"  unexpected FAIL {cid} (worst ratio {by_id[cid]['worst_ratio']}): {_first_line(by_id[cid]['detail'])}")
            lines.append(f"    {_reproduce(by_id[cid]['tests'])}")
            lines.append("    its property holds for this kernel: a false failure of the suite" if cid in row.must_pass
                         else "    replay it: a false failure of the suite, or an incidental one to add to the row")
        for cid in sorted(missing):
            status = by_id[cid]["status"] if cid in by_id else "absent"
            lines.append(f"  expected FAIL {cid}, got {status} (worst ratio {by_id.get(cid, {}).get('worst_ratio')})")
        raise AssertionError("\n".join(lines))
    wrong = {cid: by_id[cid]["status"] for cid in row.must_pass if by_id[cid]["status"] != "pass"}
    assert not wrong, f"{family}/{module}: the property of {sorted(wrong)} holds for this kernel, yet they report {wrong}"


def _first_line(detail: str) -> str:
    return (detail or "").splitlines()[0][:300] if detail else ""


def _reproduce(tests) -> str:
    """The reproduce command of a clause's first failing test, if any."""
    for test in tests:
        message = test.get("message") if isinstance(test, dict) else test.message
        for line in (message or "").splitlines():
            if line.strip().startswith("reproduce:"):
                return line.strip()
    return ""
