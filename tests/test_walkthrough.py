"""A new user's walk-through, driving the CLI as a user would (issue 11): a correct cached kernel
without declarations passes; each hand-made bug gets the right diagnosis in its first lines; a
hanging kernel gets its verdict within two minutes at default settings, a slow one within its time
budget; the printed repro reproduces; the JSON failure fields agree with the text; bad usage is one
line and exit 2."""
from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pytest

from conftest import run_cli

KERNELS = Path(__file__).resolve().parent / "walkthrough" / "kernels.py"


def check(tmp_path: Path, name: str, *args: str, timeout: float = 600):
    out = tmp_path / f"{name}.json"
    started = time.monotonic()
    proc = run_cli("check", f"{KERNELS}:{name}", "--report", str(out), *args, timeout=timeout)
    return proc, json.loads(out.read_text()), time.monotonic() - started


def lines_after_progress(stdout: str) -> list[str]:
    """The verdict's own output: what follows the per-clause progress lines."""
    lines = stdout.splitlines()
    last = max((i for i, l in enumerate(lines) if l.startswith("  [")), default=0)
    return [l for l in lines[last + 1:] if l.strip()]


# kernel, clauses to check (the ones the bug fails; the diagnosis probes the kernel itself), the
# diagnosis's first finding
BUGS = [
    ("bf16_inv_freq", ("rope.reference",), "its inverse frequencies are rounded to bfloat16"),
    ("i_over_d", ("rope.reference",), "its exponent is i/d with i the pair index"),
    ("decode_offset_dropped", ("rope.positions",), "a single-token (decode) call is rotated at position 0: its "
                                                   "offset (the KV-cache length) is dropped"),
    ("clamped_cache", ("rope.reference",), "positions past 2047 are clamped to 2047 (a cache of 2048 rows)"),
    ("wrong_layout", ("rope.reference",), "it computes layout='half' but declares layout='interleaved'"),
]


@pytest.mark.parametrize("name, clause_ids, cause", BUGS, ids=[b[0] for b in BUGS])
def test_a_bug_gets_its_diagnosis_first(tmp_path, name, clause_ids, cause):
    proc, report, _ = check(tmp_path, name, *[a for c in clause_ids for a in ("--clause", c)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    verdict = lines_after_progress(proc.stdout)
    assert verdict[0].startswith("Diagnosis"), verdict[:3]
    assert verdict[1] == f"  most likely: {report['diagnosis'][0]['cause']}"
    assert report["diagnosis"][0]["cause"].startswith(cause), report["diagnosis"]
    assert report["diagnosis"][0]["source"] == "probe"
    # then one block per failing clause, with the fields the JSON carries for the example shown
    failing = report["failure_order"]
    assert failing and set(failing) <= set(clause_ids)
    block = next(i for i, l in enumerate(verdict) if l.startswith(f"{failing[0]} (MUST) failed in"))
    text = "\n".join(verdict[block:])
    tests = [t for c in report["clauses"] for t in c["tests"] if t["status"] == "fail" and t["clause_id"] == failing[0]]
    shown = next(t for t in tests if t["failure"]["reproduce"] in text)
    f = shown["failure"]
    assert f["ratio"] == shown["worst_ratio"] == pytest.approx(f["observed"] / f["allowed"])
    assert f"(ratio {f['ratio']:.3g})" in text and f["what"] in text
    assert f["dtype"] == shown["dtype"] == f["example"]["dtype"]
    assert isinstance(f["position"], int) and isinstance(f["pair"], int)
    # the repro it prints reproduces: the same failure, exit 1
    argv = shlex.split(f["reproduce"])
    assert argv[:2] == ["pe-spec", "repro"]
    replay = run_cli(*argv[1:], timeout=300)
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert f["what"] in replay.stdout and f"(ratio {f['ratio']:.3g})" in replay.stdout


def test_the_cached_kernel_without_declarations_passes_its_cache_clauses(tmp_path):
    """max_position is drawn so that a cache sized by it fits (UNDECLARED_CACHE_VALUES): the clauses
    that build the most caches pass (its whole check, conformant, takes 2 to 3 minutes here:
    docs/performance.md)."""
    proc, report, _ = check(tmp_path, "hf_rope", "--clause", "rope.reference", "--clause", "rope.cache-coverage",
                            "-q")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert report["verdict"] == "conformant" and not report["diagnosis"]


def test_a_hanging_kernel_gets_its_verdict_within_two_minutes(tmp_path):
    proc, report, elapsed = check(tmp_path, "hangs", "-q", timeout=300)
    assert elapsed < 120, f"{elapsed:.0f} s"
    assert proc.returncode == 1 and report["verdict"] == "nonconformant"
    tests = [t for c in report["clauses"] for t in c["tests"] if not t["message"].startswith("not applicable")]
    (hung,) = [t for t in tests if t["status"] == "fail"]
    assert "a call to the kernel function exceeded the 90 s time limit (the limit of a first call" in hung["message"]
    rest = [t for t in tests if t is not hung and not t["clause_id"].startswith("device.")]   # one device here
    assert rest and all(t["status"] == "skip" and t["not_run"] == "hang" for t in rest)
    assert all(f"in {hung['nodeid']}" in t["message"] for t in rest)
    assert report["diagnosis"][0]["cause"].startswith("it hangs: a call to the kernel function exceeded")


@pytest.mark.slow_tier
def test_a_slow_kernel_ends_within_its_time_budget_incomplete(tmp_path):
    """30 s a call: correct, but a full check would take hours."""
    proc, report, elapsed = check(tmp_path, "slow", "-q", "--time-budget", "60", timeout=300)
    assert elapsed < 60 + 30, f"{elapsed:.0f} s"
    assert proc.returncode == 1 and report["verdict"] == "incomplete", report["summary"]
    summary = report["summary"]
    assert summary["fail"] == summary["error"] == 0
    assert "time budget of 60 s was spent" in summary["incomplete"]
    assert "rope.reference" in summary["not_verified"]
    assert all("time budget" in summary["why_not_verified"][cid] for cid in summary["not_verified"]
               if not cid.startswith("device."))
    assert proc.stdout.strip().splitlines()[-1].startswith("pe-spec 2026.1: INCOMPLETE:")


@pytest.mark.parametrize("args, says", [
    (("repro", f"{KERNELS}:hf_rope", "rope.reference", '{"config": {}}'), "cannot read the example JSON"),
    (("repro", f"{KERNELS}:hf_rope", "rope.reference",
      '{"config": {"head_dim": 3}, "dtype": "float32", "lead": [1], "positions": [1], "seed": 0}'),
     "the example's config is not a rope configuration"),
    (("repro", f"{KERNELS}:hf_rope", "rope.refrence", "{}"), "did you mean rope.reference"),
    (("check", f"{KERNELS}:hf_rope", "--clause", "rope.refrence"), "did you mean rope.reference"),
    (("explain", "rope.refrence"), "did you mean rope.reference"),
], ids=["repro-json", "repro-config", "repro-check-id", "check-clause", "explain-clause"])
def test_bad_usage_is_one_line_and_exit_2(args, says):
    proc = run_cli(*args, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_explain_prints_the_derivation_it_decides():
    proc = run_cli("explain", "rope.relative-shift", timeout=120)
    assert proc.returncode == 0
    text = proc.stdout
    assert "Derivation (relative_score, sympy):" in text and "expression: " in text
    assert "decided now: PROVEN" in text


def test_no_internal_module_names_in_the_output(tmp_path):
    proc, report, _ = check(tmp_path, "meta_rope", "--clause", "device.counterpart")
    assert "pe_target_" not in proc.stdout + proc.stderr + json.dumps(report)
    assert report["implementation"]["name"] == "kernels.py:meta_rope"
