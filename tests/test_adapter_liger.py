"""Liger-Kernel's Triton RoPE, checked through pe-spec's public plug-in contract
(pe_spec/adapters/liger.py; findings in docs/findings/liger.md).

Without a GPU the kernel runs under Triton's interpreter (TRITON_INTERPRET=1, set by the adapter)
and only float32 and float16 are checked; with CUDA the same clauses run on the GPU, bf16 included.
Under the interpreter every Liger call costs about 4 to 20 ms per Triton program (one per
(batch, seq) row; the adapter caps sequences at max_seq_len=512 there), so the full check of
liger:rope_hf_layout takes about 7 minutes of CPU: it runs clause by clause (the same seeds and
results as one full check), spread over the test workers, in the slower tier (slow_tier). The
deviations of liger:rope are also pinned by replaying minimal examples (`pe-spec repro`), which is
deterministic whatever the suite's draws.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from conftest import REPO, engine_report, expect_clause, rope_example, run_cli

from pe_spec.spec import clauses

INTERPRETED = not torch.cuda.is_available()

# Genuine deviations of liger_rotary_pos_emb (liger-kernel 0.8.5), docs/findings/liger.md.
ROPE_HF_LAYOUT_DEVIATIONS = {
    "rope.gradient": "Liger's backward rotates the incoming gradient in place when it is contiguous [b, h, s, d] "
                     "with one head or seq_len 1 (the caller's grad_outputs are overwritten), and with seq_len 1, "
                     "batch > 1, heads > 1 it takes the row stride from the size-1 seq dim: wrong dx for batch > 0",
}


def _example(lead, seq, dtype="float32", head_dim=64):
    return json.dumps(rope_example(lead, range(1, seq + 1), dtype=dtype, head_dim=head_dim))


HF_LAYOUT = "liger:rope_hf_layout"


@pytest.mark.slow_tier
@pytest.mark.parametrize("clause_id", [c.id for c in clauses.applicable("rope")])
def test_liger_rope_hf_layout_conformant_but_its_backward(clause_id):
    """q as transformers' attention passes it: every forward clause passes, device.counterpart included
    (the Triton program equals the eager path within a few ulps); the backward deviates."""
    report = expect_clause(HF_LAYOUT, clause_id, ROPE_HF_LAYOUT_DEVIATIONS)
    if clause_id == "device.counterpart":
        (c,) = report["clauses"]
        assert c["status"] == "pass" and c["worst_ratio"] is not None, c


def test_liger_adapter_names_interpreter_and_dtypes():
    _, report = engine_report(HF_LAYOUT, "impl.dtype-shape")
    assert report["implementation"]["name"] == HF_LAYOUT
    assert report["environment"]["triton_interpret"] == ("1" if INTERPRETED else "")
    declared = report["implementation"]["declared"]["dtypes"]
    assert list(declared) == (["float32", "float16"] if INTERPRETED else ["float32", "bfloat16", "float16"])


@pytest.mark.parametrize("check_id", ["device.counterpart", "rope.reference"])
def test_liger_rope_batched_decode_with_contiguous_q_is_wrong(check_id):
    """A contiguous q [batch 2, heads 2, seq 1, head_dim]: Liger reads the row stride from the size-1 seq
    dim (head_dim instead of heads * head_dim) and rotates the wrong rows of batch 1."""
    proc = run_cli("repro", "liger:rope", check_id, _example((2, 2), 1))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert f"[{check_id}]" in proc.stdout and "sequence index 0 (position 1)" in proc.stdout, proc.stdout
    # the same shape with seq 3 (a copy is made, the strides are right) is exact
    ok = run_cli("repro", "liger:rope", check_id, _example((2, 2), 3))
    assert ok.returncode == 0, ok.stdout + ok.stderr[-2000:]


def test_liger_rope_writes_into_its_input():
    """One head (or seq_len 1): q.transpose(1, 2) is already contiguous, .contiguous() is a no-op and the
    kernel rotates the caller's q in place."""
    proc = run_cli("repro", "liger:rope", "impl.no-mutation", _example((1,), 4))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert "the kernel wrote into its input x" in proc.stdout, proc.stdout


def test_llama_eager_counterpart_meets_the_reference():
    """The counterpart device.counterpart compares Liger with is itself correct (here at long context)."""
    ex = json.loads(_example((2, 3), 5))
    ex["config"].update(max_position=2**25, base=500000.0)
    ex["positions"] = [2**24 - 3, 0, 2**24 + 5, 2**20, 7]
    proc = run_cli("repro", "liger:llama_eager", "rope.reference", json.dumps(ex))
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]


@pytest.mark.skipif(not INTERPRETED, reason="with CUDA the kernel is compiled for the GPU, as it should be")
def test_adapter_refuses_a_kernel_built_without_the_interpreter():
    """Liger's kernel module imported without TRITON_INTERPRET on a machine without CUDA: a clear error,
    not a kernel that fails at launch ('0 active drivers')."""
    code = "import liger_kernel.ops.rope\nimport pe_spec.adapters.liger\n"
    env = {k: v for k, v in __import__("os").environ.items() if k != "TRITON_INTERPRET"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert "TRITON_INTERPRET=1" in proc.stderr and "cannot launch" in proc.stderr, proc.stderr[-2000:]
