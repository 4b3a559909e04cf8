"""Correct kernels in several styles pass every clause in every dtype their checks draw (float64
included) and reach every input regime that applies to them: every bundled kernel
of every family (RoPE in four styles, sinusoidal tables in each named convention), checked in this
process by the clause engine (the same seeds and verdicts as `pe-spec check`, tests/test_engine.py),
and the README's example kernel through the CLI, as a user runs it."""
from __future__ import annotations

import re

import pytest

from conftest import REPO, check_report, engine_report, statuses

from pe_properties import engine

from pe_spec.examples import bundled

BUNDLED = list(bundled())


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
            assert checked == set(engine.DTYPES), (c["id"], checked)
    missed = [r["name"] for r in report["regimes"] if r["status"] == "not reached"]
    assert not missed, f"{report['implementation']['target']}: the ci draws never reached the regimes {missed}"


def test_every_family_bundles_examples():
    from pe_spec.spec import registry

    families = {impl.family for impl in bundled().values()}
    assert families == set(registry.names()), f"families without a bundled kernel: {set(registry.names()) - families}"


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_kernel_is_conformant(name):
    proc, report = engine_report(f"examples:{name}")
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
