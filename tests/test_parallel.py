"""The property suite under pytest-xdist (`pytest -n 2 --pyargs pe_properties --pe-impl ...`) gives
the serial run's verdicts: the controller collects the workers' results and alone writes the report.

With the ci profile (derandomized) the examples are the same in both runs, so each test's
status, example count and worst observed/allowed ratio must be identical, not just the verdict.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pe_properties import engine

from pe_spec.examples import rope_half_cached

pytest.importorskip("xdist")

CLAUSES = ("rope.reference", "impl.dtype-shape")


def _run(target: str, tmp_path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / f"report{'-n' if extra else ''}.json"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q",
           "--pyargs", "pe_properties", "--pe-impl", target, "--pe-report", str(report), *extra]
    for c in CLAUSES:
        cmd += ["--pe-clause", c]
    # From tmp_path: the installed pe_properties, and no worker can find the repository's conftest.
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert report.exists(), f"no report; exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc, json.loads(report.read_text())


def _tests(report: dict) -> list[tuple]:
    return [(c["id"], c["status"], t["nodeid"], t["dtype"], t["status"], t["examples"], t["worst_ratio"])
            for c in report["clauses"] for t in c["tests"]]


@pytest.mark.parametrize("target", ["examples:rope_half_cached"])
def test_xdist_gives_the_serial_verdicts(target, tmp_path):
    serial_proc, serial = _run(target, tmp_path)
    parallel_proc, parallel = _run(target, tmp_path, "-n", "2")
    assert serial_proc.returncode == parallel_proc.returncode == 0, parallel_proc.stdout[-3000:]
    assert parallel["verdict"] == serial["verdict"] == "conformant"
    assert [c["id"] for c in parallel["clauses"]] == list(CLAUSES)   # nothing lost, registry order
    assert _tests(parallel) == _tests(serial)
    assert parallel["summary"] == serial["summary"]


def test_xdist_worker_crash_is_an_error_in_the_report(tmp_path):
    """A kernel that kills its worker: the controller reports that test as an error (nonconformant),
    never as a conformant report with the test missing."""
    kernel = tmp_path / "crashing.py"
    kernel.write_text(
        "import os\n"
        "import torch\n"
        "from pe_spec import rope\n"
        "from pe_spec.examples import rope_half_cached\n\n"
        "@rope.implementation(layout='half', max_position=2**17)\n"
        "def crashing(cfg):\n"
        "    fn = rope_half_cached.factory(cfg)\n"
        "    def apply(x, positions):\n"
        "        if x.dtype == torch.float16:\n"
        "            os._exit(3)\n"
        "        return fn(x, positions)\n"
        "    return apply\n")
    proc, report = _run(f"{kernel}:crashing", tmp_path, "-n", "2")
    assert proc.returncode == 1
    assert report["verdict"] == "nonconformant"
    by_test = {(t["nodeid"].split("::")[-1]): t for c in report["clauses"] for t in c["tests"]}
    planned = engine.plan(rope_half_cached, CLAUSES)
    assert len(by_test) == len(planned)              # every test reported, the crashed ones included
    crashed = [t for t in by_test.values() if t["status"] == "error"]
    assert crashed and all(t["dtype"] == "float16" and "crashed" in t["message"] for t in crashed)
    assert all(t["status"] == "pass" for t in by_test.values() if t["dtype"] != "float16")
