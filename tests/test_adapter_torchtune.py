"""torchtune's RoPE modules, checked through pe-spec's public plug-in contract
(pe_spec/adapters/torchtune.py; findings in docs/findings/torchtune.md)."""
from __future__ import annotations

import json

import pytest

from conftest import engine_report, expect_verdict, rope_example, run_cli

# All three index their cos/sin cache as self.cache[input_pos] (position_embeddings.py:96,
# models/qwen2/_positional_embeddings.py:100, models/phi3/_position_embeddings.py:100): a negative
# input_pos (a -1 padding id, a key re-rotated by a negative delta) wraps Python-style to the far
# end of the max_seq_len-row cache instead of rotating by its position or raising.
_NEGATIVE_WRAP = ("negative input_pos wraps to the far end of the cache (self.cache[input_pos]): -1 returns the "
                  "rotation of max_seq_len - 1; docs/findings/torchtune.md")

# target -> {clause id: why it fails}; every entry is a genuine deviation documented in
# docs/findings/torchtune.md.
DEVIATIONS: dict[str, dict[str, str]] = {
    "torchtune:rope": {"rope.cache-coverage": _NEGATIVE_WRAP},
    "torchtune:phi3": {"rope.cache-coverage": _NEGATIVE_WRAP},
    "torchtune:qwen2": {"rope.cache-coverage": _NEGATIVE_WRAP},
}


@pytest.mark.slow_tier
@pytest.mark.parametrize("target", sorted(DEVIATIONS))
def test_torchtune_adapter(target):
    proc, report = engine_report(target)
    expect_verdict(proc, report, DEVIATIONS[target])
    assert report["implementation"]["name"] == target


@pytest.mark.parametrize("target", sorted(DEVIATIONS))
def test_torchtune_negative_position_wraps_to_the_end_of_its_cache(target):
    """Replayed, whatever the suite's draws: position -1 of a 2048-row cache is rotated as 2047."""
    example = rope_example((1, 1), [0], extra={"beyond": [0], "below": [-1]})
    proc = run_cli("repro", target, "rope.cache-coverage", json.dumps(example))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert "negative ids wrapped to the far end of a 2048-row table" in proc.stdout, proc.stdout
