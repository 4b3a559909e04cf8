"""Shared by the known-bug tables (tests/test_known_bugs*.py): run one buggy kernel through
`pe-spec check` in a fresh interpreter and judge its report against the table's row.

A row has ``main`` (the clause meant to catch the bug), ``required(accelerator)`` (clauses that
must fail), ``allowed(accelerator)`` (those that may: required plus incidental ones),
``incidental`` and ``must_pass`` (clauses whose property holds for the kernel).
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 900


def run_check(kernel_file: Path, report: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pe_spec.cli", "check", f"{kernel_file}:kernel", "-q",
                           "--report", str(report)],
                          cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)


def first_line(clause: dict) -> str:
    return (clause.get("detail") or clause["status"]).splitlines()[0][:300]


def reproduce(clause: dict) -> str:
    """The reproduce command of the clause's first failing test, if any."""
    for test in clause.get("tests", []):
        for line in (test.get("message") or "").splitlines():
            if line.strip().startswith("reproduce:"):
                return line.strip()
    return ""


def judge(module: str, row: Any, kernel_file: Path, tmp_path: Path,
          record_property: Callable[[str, Any], None]) -> None:
    """Run the kernel and assert the report fails exactly as the row says."""
    report_path = tmp_path / f"{module}.json"
    proc = run_check(kernel_file, report_path)
    assert report_path.exists(), f"no report written (exit {proc.returncode})\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(report_path.read_text())
    by_id = {c["id"]: c for c in report["clauses"]}
    failed = {cid for cid, c in by_id.items() if c["status"] in ("fail", "error")}
    accelerator = report["environment"]["devices"] != ["cpu"]
    required, allowed = row.required(accelerator), row.allowed(accelerator)
    record_property("failed_clauses", sorted(failed))
    record_property("incidental_failed", sorted(failed & set(row.incidental)))
    record_property("main_worst_ratio", by_id.get(row.main, {}).get("worst_ratio"))

    errors = {cid: first_line(c) for cid, c in by_id.items() if c["status"] == "error"}
    assert not errors, f"{module}: the suite crashed instead of judging: {errors}"
    assert proc.returncode == 1, f"{module}: exit {proc.returncode}, expected 1 (nonconformant)\n{proc.stdout[-3000:]}"
    assert by_id[row.main]["status"] == "fail", f"{module}: its main clause {row.main} reports {by_id[row.main]['status']}"
    missing, unexpected = required - failed, failed - allowed
    if missing or unexpected:
        lines = [f"{module}: failed clauses differ from the table"]
        for cid in sorted(unexpected):
            lines.append(f"  unexpected FAIL {cid} (worst ratio {by_id[cid]['worst_ratio']}): {first_line(by_id[cid])}")
            lines.append(f"    {reproduce(by_id[cid])}")
            lines.append("    its property holds for this kernel: a false failure of the suite" if cid in row.must_pass
                         else "    replay it: a false failure of the suite, or an incidental one to add to the row")
        for cid in sorted(missing):
            status = by_id[cid]["status"] if cid in by_id else "absent"
            lines.append(f"  expected FAIL {cid}, got {status} (worst ratio {by_id.get(cid, {}).get('worst_ratio')})")
        pytest.fail("\n".join(lines))
    wrong = {cid: by_id[cid]["status"] for cid in row.must_pass if by_id[cid]["status"] != "pass"}
    assert not wrong, f"{module}: the property of {sorted(wrong)} holds for this kernel, yet they report {wrong}"


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
        """Clauses that may fail: the required ones and the incidental ones. Incidental failures
        depend on what the derandomized ci draws reach, which moves when the suite's source does."""
        return self.required(accelerator) | set(self.incidental)


def row_builder(reference_clause: str) -> Callable[..., Bug]:
    """bug(main, *fails, incidental=..., must_pass=...) for a family's table; fails may be sets."""

    def bug(main: str, *fails: str | frozenset, incidental: dict | None = None, must_pass: tuple = ()) -> Bug:
        flat: set[str] = {main}
        for f in fails:
            flat |= set(f) if isinstance(f, frozenset) else {f}
        return Bug(main, frozenset(flat), reference_clause, dict(incidental or {}), frozenset(must_pass))

    return bug


def check_table(bugs: dict[str, Bug], directory: Path, minimum: int) -> None:
    """The table has one row per module in directory (at least minimum), naming registered clauses."""
    from pe_spec import clauses

    modules = {p.stem for p in directory.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(bugs), f"modules without a row: {sorted(modules - set(bugs))}; " \
                                 f"rows without a module: {sorted(set(bugs) - modules)}"
    assert len(bugs) >= minimum
    known = set(clauses.ids())
    for module, row in bugs.items():
        named = {row.main} | row.fails | set(row.incidental) | row.must_pass
        assert named <= known, f"{module}: unknown clause ids {sorted(named - known)}"
        assert not (row.must_pass & row.allowed(accelerator=True)), f"{module}: a clause both fails and must pass"
        assert not (row.fails & set(row.incidental)), f"{module}: a clause is both genuine and incidental"


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""
