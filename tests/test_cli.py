"""The pe-spec command line: exit codes, one-line loading errors, reports, reproduction."""
from __future__ import annotations

import json
import shlex
import textwrap

import pytest

from conftest import check_report, run_cli, statuses
from pe_spec.spec import clauses

OFF_BY_ONE = textwrap.dedent('''
    import torch
    from pe_spec import rope
    from pe_spec.families.rope.examples import fp32_angles, inverse_frequencies

    @rope.implementation(layout="interleaved", dtypes=("float32",))
    def kernel(cfg):
        inv = inverse_frequencies(cfg.rotary_dim, cfg.base)
        def apply(x, positions):
            ang = fp32_angles(positions + 1, inv)      # the bug: positions start at 1
            c, s = ang.cos(), ang.sin()
            a, b = x[..., 0:cfg.rotary_dim:2].float(), x[..., 1:cfg.rotary_dim:2].float()
            out = torch.stack((a * c - b * s, a * s + b * c), -1).flatten(-2).to(x.dtype)
            return torch.cat((out, x[..., cfg.rotary_dim:]), -1)
        return apply
''')


def test_list_prints_every_clause():
    proc = run_cli("list")
    assert proc.returncode == 0
    for cid in clauses.ids():
        assert cid in proc.stdout


def test_explain_prints_math_and_rationale():
    proc = run_cli("explain", "rope.relative-shift")
    c = clauses.get("rope.relative-shift")
    assert proc.returncode == 0
    assert "Statement:" in proc.stdout and "Math:" in proc.stdout and "Why it holds:" in proc.stdout
    assert f"Derivation ({c.derivation.rsplit('.', 1)[1]}, sympy)" in proc.stdout and "decided now: PROVEN" in proc.stdout
    typo = run_cli("explain", "rope.relativ-shift")
    assert typo.returncode == 2 and "did you mean rope.relative-shift" in typo.stderr, typo.stderr


@pytest.mark.parametrize("setup, target, expected, args", [
    (None, "missing_file.py:kernel", "no such file", ()),
    (None, "pe_spec.examples:nothing", "has no attribute 'nothing'; implementations there: rope_half_cached", ()),
    (None, "pe_spec.families.rope.examples:torch", "not an implementation: decorate its factory with "
     "@rope.implementation(layout=...) or @sinusoidal.implementation(convention=...)", ()),
    (None, "no_such_module_xyz:kernel", "no module named 'no_such_module_xyz'", ()),
    ("def broken(:\n", "{path}:kernel", "syntax error", ()),
    ("raise RuntimeError('boom')\n", "{path}:kernel", "raised RuntimeError: boom", ()),
    ("raise RuntimeError('line one\\nline two')\n", "{path}:kernel", "raised RuntimeError: line one line two", ()),
    (None, "no-colon", "must look like", ()),
    # a declaration the contract does not know
    ("from pe_spec import rope\n@rope.implementation(layout='diagonal')\ndef kernel(cfg): pass\n", "{path}:kernel",
     "raised ContractError: rope.implementation: unknown rotary layout 'diagonal'", ()),
    # modules that leave or hang while being imported (the import runs under the call time limit)
    ("import sys\nsys.exit(4)\n", "{path}:kernel", "called sys.exit(4)", ()),
    ("import time\ntime.sleep(3600)\n", "{path}:kernel", "exceeded the 1 s time limit", ("--call-timeout", "1")),
])
def test_loading_errors_are_one_line_exit_2(tmp_path, setup, target, expected, args):
    path = tmp_path / "target.py"
    if setup:
        path.write_text(setup)
    proc = run_cli("check", target.format(path=path), *args)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_failure_report_and_reproduction(tmp_path):
    kernel = tmp_path / "off_by_one.py"
    kernel.write_text(OFF_BY_ONE)
    md = tmp_path / "report.md"
    proc, report = check_report(f"{kernel}:kernel", tmp_path, "--clause", "rope.zero", "--markdown", str(md))
    assert proc.returncode == 1 and report["verdict"] == "nonconformant"
    assert statuses(report) == {"rope.zero": "fail"}
    (test,) = [t for c in report["clauses"] for t in c["tests"] if t["status"] == "fail"]
    message = test["message"]
    statement = clauses.get("rope.zero").statement
    for part in ("[rope.zero] MUST", statement, "observed error", "allowed", "ratio", "counterexample: config(",
                 "dtype=float32", "device=cpu", "x.shape=", "positions=[0", "reproduce: pe-spec repro"):
        assert part in message, (part, message)
    assert "rope.zero (MUST) failed in float32: " in proc.stdout and "NONCONFORMANT" in proc.stdout
    assert proc.stdout.index("Diagnosis") < proc.stdout.index("rope.zero (MUST) failed")
    assert "rope.zero" in md.read_text() and "| fail |" in md.read_text()
    # The reproduce line replays exactly the shrunk example.
    line = next(l for l in message.splitlines() if "reproduce:" in l).split("reproduce: ", 1)[1]
    argv = shlex.split(line)
    assert argv[:2] == ["pe-spec", "repro"]
    replay = run_cli(*argv[1:])
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "[rope.zero]" in replay.stdout


def test_repro_of_a_passing_example_exits_0(tmp_path):
    ex = {"config": {"head_dim": 8, "rotary_dim": 8, "base": 10000.0, "max_position": 4096, "scaling": "none"},
          "dtype": "float32", "lead": [2], "positions": [0, 5, 4095], "seed": 1, "device": "cpu", "extra": {}}
    proc = run_cli("repro", "examples:rope_interleaved_pairs", "rope.reference", json.dumps(ex))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "holds" in proc.stdout
    bad = run_cli("repro", "examples:rope_interleaved_pairs", "rope.nope", json.dumps(ex))
    assert bad.returncode == 2


def test_quiet_prints_only_the_verdict(tmp_path):
    proc = run_cli("check", "examples:rope_interleaved_pairs", "-q", "--clause", "rope.norm")
    assert proc.returncode == 0
    assert proc.stdout.strip().splitlines()[-1].startswith("pe-spec 2026.1: CONFORMANT")
    assert "[ 1/" not in proc.stdout
    loud = run_cli("check", "examples:rope_interleaved_pairs", "--clause", "rope.norm")
    assert "rope.norm" in loud.stdout and "PASS" in loud.stdout


def test_report_schema(tmp_path):
    proc, report = check_report("examples:rope_interleaved_pairs", tmp_path, "--clause", "rope.norm",
                                "--clause", "device.agreement")
    assert set(report) >= {"spec_version", "implementation", "verdict", "environment", "clauses"}
    assert report["environment"]["profile"] == "ci"
    assert {"torch", "numpy", "hypothesis", "python", "devices"} <= set(report["environment"])
    for c in report["clauses"]:
        assert {"id", "status", "detail"} <= set(c)
        assert c["status"] in ("pass", "fail", "skip", "error")


def test_pytest_plugin_gives_the_same_verdict(tmp_path):
    import subprocess
    import sys

    kernel = tmp_path / "off_by_one.py"
    kernel.write_text(OFF_BY_ONE)
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "pe_properties", "-q", "-p", "no:cacheprovider",
                           "--pe-impl", f"{kernel}:kernel", "--pe-clause", "rope.zero", "--pe-clause", "rope.norm",
                           "--pe-report", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert statuses(json.loads(out.read_text())) == {"rope.zero": "fail", "rope.norm": "pass"}
    assert "[rope.zero] MUST" in proc.stdout
