"""The clause engine run in this process and `pe-spec check` (the engine in a supervised child)
give the same verdict: the same statuses, example counts and worst ratios, test by test, because
both seed each test from the check itself (pe_properties.engine.seed_for)."""
from __future__ import annotations

from conftest import check_report, engine_report

import known_bug_table as T


def _tests(report: dict) -> list[tuple]:
    return [(c["id"], c["status"], t["nodeid"], t["dtype"], t["status"], t["examples"], t["worst_ratio"],
             t["unsupported_configs"], t["shrunk"])
            for c in report["clauses"] for t in c["tests"]]


def test_engine_and_check_agree_on_a_correct_kernel(tmp_path):
    target = "examples:sinusoidal_vaswani"
    in_process, ours = engine_report(target)
    proc, theirs = check_report(target, tmp_path)
    assert proc.returncode == in_process.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert _tests(ours) == _tests(theirs)
    assert ours["summary"] == theirs["summary"]
    assert all(ratio is not None for (cid, _, _, _, status, _, ratio, _, _) in _tests(ours)
               if status == "pass" and cid == "sinusoidal.reference")   # measured, so equality means something


def test_engine_and_check_agree_on_a_failing_kernel_message_for_message(tmp_path):
    """The same failures, shrunk to the same counterexamples, with the same messages."""
    path = T.kernel_file("rope", "inv_freq_bf16")
    target = f"{path}:kernel"
    clauses = ("rope.reference", "rope.relative-shift", "impl.environment")
    in_process, ours = engine_report(target, *clauses)
    args = [a for c in clauses for a in ("--clause", c)]
    proc, theirs = check_report(target, tmp_path, *args)
    assert proc.returncode == in_process.returncode == 1
    assert _tests(ours) == _tests(theirs)
    messages = lambda r: [t["message"] for c in r["clauses"] for t in c["tests"]]
    assert messages(ours) == messages(theirs)
    assert any("reproduce: pe-spec repro" in m for m in messages(ours))
