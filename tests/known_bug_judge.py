"""Shared by the known-bug tables (tests/test_known_bugs*.py): run one buggy kernel through
`pe-spec check` in a fresh interpreter and judge its report against the table's row.

A row has ``main`` (the clause meant to catch the bug), ``required(accelerator)`` (clauses that
must fail), ``allowed(accelerator)`` (those that may: required plus incidental ones),
``incidental`` and ``must_pass`` (clauses whose property holds for the kernel).
"""
from __future__ import annotations

import json
import subprocess
import sys
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
