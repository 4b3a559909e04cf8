"""Correct kernels in several styles pass every clause in fp32, bf16 and fp16: RoPE in four
styles, sinusoidal tables in each named convention."""
from __future__ import annotations

import re

import pytest

from conftest import REPO, check_report, statuses

BUNDLED = ["rope_half_cached", "rope_interleaved_complex", "rope_interleaved_pairs", "rope_half_partial",
           "sinusoidal_vaswani", "sinusoidal_concat", "sinusoidal_tensor2tensor", "sinusoidal_fairseq"]


def _expect_conformant(proc, report) -> None:
    got = statuses(report)
    # Skips are honest only as "not applicable" (e.g. device.counterpart without a declared
    # counterpart) or device.agreement "not verified" on a machine without an accelerator.
    bad = {cid: s for cid, s in got.items() if s != "pass" and cid != "device.agreement"
           and not (s == "skip" and _all_not_applicable(report, cid))}
    messages = [t["message"] for c in report["clauses"] for t in c["tests"] if t["status"] in ("fail", "error")]
    assert not bad, f"correct kernel flagged: {bad}\n" + "\n\n".join(messages)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["verdict"] == "conformant"
    for c in report["clauses"]:
        if c["status"] == "pass":
            checked = {t["dtype"] for t in c["tests"] if t["status"] == "pass"}
            assert checked == {"float32", "bfloat16", "float16"}, (c["id"], checked)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_kernel_is_conformant(name, tmp_path):
    proc, report = check_report(f"examples:{name}", tmp_path)
    _expect_conformant(proc, report)
    # Without an accelerator device.agreement is reported as not verified, never as passed.
    if report["environment"]["devices"] == ["cpu"]:
        assert statuses(report)["device.agreement"] == "skip"
        assert "device.agreement" in report["summary"]["not_verified"]


def test_readme_kernel_is_conformant(tmp_path):
    """The ten-line adapter shown in README.md passes as written."""
    readme = (REPO / "README.md").read_text()
    code = re.search(r"```python\n(# my_kernel\.py\n.*?)```", readme, re.S).group(1)
    path = tmp_path / "my_kernel.py"
    path.write_text(code)
    proc, report = check_report(f"{path}:my_rope", tmp_path)
    _expect_conformant_declared(proc, report, {"float32", "bfloat16"})


def _all_not_applicable(report, cid) -> bool:
    clause = next(c for c in report["clauses"] if c["id"] == cid)
    return all(t["message"].startswith("not applicable") for t in clause["tests"] if t["status"] == "skip")


def _expect_conformant_declared(proc, report, dtypes) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for c in report["clauses"]:
        if c["status"] == "pass":
            assert {t["dtype"] for t in c["tests"] if t["status"] == "pass"} == dtypes
            skipped = [t for t in c["tests"] if t["status"] == "skip"]
            assert all(t["message"].startswith("not applicable") for t in skipped)
