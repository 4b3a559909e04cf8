"""Shared helpers for pe-spec's own tests."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `pe-spec ARGS` in a fresh interpreter (as a user would), capturing its output."""
    return subprocess.run([sys.executable, "-m", "pe_spec", *args], cwd=cwd or REPO, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def rope_example(lead, positions, *, dtype: str = "float32", head_dim: int = 64, extra: dict | None = None) -> dict:
    """A RoPE example to replay with `pe-spec repro` (json.dumps it): full rotary, base 10000, a
    2048-row max_position, seed 0, on the CPU."""
    return {"config": {"head_dim": head_dim, "rotary_dim": head_dim, "base": 10000.0, "max_position": 2048,
                       "scaling": "none"},
            "dtype": dtype, "lead": list(lead), "positions": list(positions), "seed": 0, "device": "cpu",
            "extra": dict(extra or {})}


def check_report(target: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    """`pe-spec check TARGET --report` and the parsed report."""
    out = tmp_path / "report.json"
    proc = run_cli("check", target, "-q", "--report", str(out), *extra)
    assert out.exists(), f"no report written; exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(out.read_text())


class InProcessRun:
    """A check run in this process by the clause engine, with what `pe-spec check` would have
    exited with (tests/test_engine.py proves the two give the same report)."""

    def __init__(self, report: dict) -> None:
        self.report = report
        self.returncode = 0 if report["verdict"] == "conformant" else 1
        self.stdout = self.stderr = ""


def engine_report(target: str, *clause_ids: str, profile: str = "ci") -> tuple[InProcessRun, dict]:
    """The report of a check of TARGET (or of some clauses) run in this process."""
    from pe_properties import engine, outcomes
    from pe_properties.loading import load

    from pe_spec.harness import report
    from pe_spec.harness.profiles import PROFILES, run_settings

    started = time.time()
    impl = load(target)
    outcomes.TARGET = target
    settings = run_settings(profile)
    results = engine.run(impl, settings, clause_ids)
    env = report.environment(profile, settings.seed, {**PROFILES[profile], "isolation": "none (in-process)"})
    built = report.build(target, impl, results, env, started)
    return InProcessRun(built), built


def statuses(report: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["clauses"]}


@pytest.fixture
def cli():
    return run_cli


def expect_verdict(proc, report: dict, deviations: dict[str, str] | None = None) -> None:
    """Every clause passes (or is honestly skipped) except exactly the documented deviations.

    deviations maps clause id -> why it fails (a genuine deviation of the library, documented in
    docs/findings/); an undocumented failure or a documented one that stopped failing both fail.
    """
    deviations = deviations or {}
    got = statuses(report)
    failing = {cid for cid, s in got.items() if s in ("fail", "error")}
    messages = [t["message"] for c in report["clauses"] if c["id"] not in deviations
                for t in c["tests"] if t["status"] in ("fail", "error")]
    assert failing == set(deviations), (f"failing clauses {sorted(failing)}, documented deviations "
                                        f"{sorted(deviations)}\n" + "\n\n".join(messages) + proc.stderr[-3000:])
    assert proc.returncode == (1 if deviations else 0), proc.stdout[-3000:] + proc.stderr[-3000:]
    expect_honest_skips(report)
    expect_table_row(report["implementation"]["target"], report)


def expect_clause(target: str, clause_id: str, deviations: dict[str, str]) -> dict:
    """One clause of a full check (the same seeds and shrink budget as in the full check, so the
    same result): it fails exactly when it is a documented deviation, a skip says why honestly,
    and its status is the published table's. A full check split this way runs clause by clause
    on every worker, with the full check's assertions."""
    proc, report = engine_report(target, clause_id)
    (clause,) = report["clauses"]
    failing = clause["status"] in ("fail", "error")
    messages = "\n\n".join(t["message"] for t in clause["tests"] if t["status"] in ("fail", "error"))
    assert failing == (clause_id in deviations), f"{target} {clause_id}: {clause['status']}\n{messages}"
    expect_honest_skips(report)
    expect_table_row(target, report, only=(clause_id,))
    return report


def expect_honest_skips(report: dict) -> None:
    """Every skipped test says why: not applicable, or not verified."""
    for c in report["clauses"]:
        if c["status"] == "skip":
            assert all(t["message"].startswith(("not applicable", "not verified")) for t in c["tests"]
                       if t["status"] == "skip"), (c["id"], [t["message"] for t in c["tests"]])


def expect_table_row(target: str, report: dict, only: tuple[str, ...] = ()) -> None:
    """The verdicts a fresh check gives equal what docs/conformance.md publishes for TARGET: for
    every clause, or for ``only`` these (a check split clause by clause)."""
    from pe_spec.publish import conformance

    table = conformance.load_table()
    assert table is not None and target in table["rows"], \
        f"{target} is not in docs/conformance.json: run python -m pe_spec.publish.conformance"
    fresh = conformance.row(report)
    got = {cid: c["status"] for cid, c in fresh["clauses"].items()}
    published = {cid: c["status"] for cid, c in table["rows"][target]["clauses"].items() if not only or cid in only}
    assert got == published, (f"{target}: a fresh check disagrees with the published table "
                              f"(python -m pe_spec.publish.conformance --only {target}): "
                              f"{ {k: (published.get(k), got.get(k)) for k in set(got) | set(published) if got.get(k) != published.get(k)} }")
