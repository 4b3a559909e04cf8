"""The ci profile draws the same examples for the same check wherever and however it runs.

Two inputs used to leak into hypothesis's derandomized seed or choices besides the check itself:
the pytest node id (relative to the rootdir, i.e. the current directory for `--pyargs`), and the
literals of local source files. The engine seeds each test from its check id and dtype alone
(pe_properties.engine.seed_for), and pe_spec.harness.profiles pins hypothesis's source constants
to none.
"""
from __future__ import annotations

import json

from conftest import run_cli

TARGET = "examples:rope_interleaved_pairs"
CLAUSES = ("rope.reference", "rope.relative-shift")


def _drawn(report: dict) -> list[tuple]:
    return [(c["id"], t["dtype"], t["status"], t["examples"], t["worst_ratio"])
            for c in report["clauses"] for t in c["tests"]]


def test_a_check_draws_the_same_examples_from_any_directory(tmp_path):
    reports = []
    for where in (None, tmp_path):   # the repository root, then an unrelated directory
        out = tmp_path / f"report-{len(reports)}.json"
        args = ["check", TARGET, "-q", "--report", str(out)]
        for c in CLAUSES:
            args += ["--clause", c]
        proc = run_cli(*args, cwd=where)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        reports.append(json.loads(out.read_text()))
    first, second = reports
    assert first["environment"]["source_constants_pinned"] is True
    assert _drawn(first) == _drawn(second)
    assert all(ratio is not None for *_, ratio in _drawn(first))   # measured, so the equality means something
