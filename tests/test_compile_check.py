"""impl.compile checks compiled code: every one of its examples runs the torch.compile'd kernel (never
dynamo's silent fallback to eager past its recompile limit), a kernel that recompiles on every call
is reported as not verified, and the check's own compilations leave nothing on the kernel's stderr."""
from __future__ import annotations

import json

import torch

from pe_properties import engine, load_checks
from pe_properties.test_universal import COMPILE_EXAMPLES, fresh_compilations

from pe_spec import rope
from pe_spec.examples import rope_interleaved_pairs
from pe_spec.harness.profiles import run_settings

from conftest import run_cli

load_checks()


@rope.implementation(layout="interleaved", dtypes=("float32",), head_dims=(8,), max_position=4096)
def right_only_when_compiled(cfg: rope.Config):
    """Halves its output unless it runs as compiled code: each eager call is wrong."""
    inner = rope_interleaved_pairs.factory(cfg)

    def apply(x, positions):
        y = inner(x, positions)
        return y if torch.compiler.is_compiling() else 0.5 * y

    return apply


@rope.implementation(layout="interleaved", dtypes=("float32",), head_dims=(8,), max_position=4096)
def recompiles_every_call(cfg: rope.Config):
    """Keeps a Python string it changes per call: dynamo's guard on it fails on every call (an int
    would be made dynamic after one recompilation)."""
    inner = rope_interleaved_pairs.factory(cfg)
    tag = ["0"]

    def apply(x, positions):
        tag[0] = str(int(tag[0]) + 1)
        y = inner(x, positions)
        return y if len(tag[0]) < 100 else -y

    return apply


def test_every_compile_example_runs_compiled_code():
    with fresh_compilations():
        result = engine.run_test("impl.compile", right_only_when_compiled, "float32", run_settings("ci"))
    assert result.status == "pass", result.message
    assert result.examples == COMPILE_EXAMPLES   # each of them would have failed had it run eagerly
    eager = engine.run_test("rope.reference", right_only_when_compiled, "float32", run_settings("ci"))
    assert eager.status == "fail"                # the kernel is wrong eagerly: the check above is not vacuous


def test_a_kernel_recompiling_on_every_call_is_not_verified_not_passed():
    with fresh_compilations():
        result = engine.run_test("impl.compile", recompiles_every_call, "float32", run_settings("ci"))
    assert result.status == "skip" and result.message.startswith("not verified"), result.message
    assert "recompiles the kernel on nearly every call" in result.message


def test_the_checks_own_compilations_leave_no_warning_on_a_correct_kernel(tmp_path):
    out = tmp_path / "r.json"
    proc = run_cli("check", "examples:rope_interleaved_pairs", "--clause", "impl.compile", "-q", "--report", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["output"]["stderr"]["bytes"] == 0, report["output"]["stderr"]["tail"]
    assert "recompile" not in proc.stdout + proc.stderr
