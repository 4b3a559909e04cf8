"""Shared helpers for pe-spec's own tests."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `pe-spec ARGS` in a fresh interpreter (as a user would), capturing its output."""
    return subprocess.run([sys.executable, "-m", "pe_spec.cli", *args], cwd=cwd or REPO, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def check_report(target: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    """`pe-spec check TARGET --report` and the parsed report."""
    out = tmp_path / "report.json"
    proc = run_cli("check", target, "-q", "--report", str(out), *extra)
    assert out.exists(), f"no report written; exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(out.read_text())


def statuses(report: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["clauses"]}


@pytest.fixture
def cli():
    return run_cli
