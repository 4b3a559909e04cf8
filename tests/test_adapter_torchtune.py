"""torchtune's RoPE modules, checked through pe-spec's public plug-in contract
(pe_spec/adapters/torchtune.py; findings in docs/findings/torchtune.md)."""
from __future__ import annotations

import pytest

from conftest import engine_report, expect_verdict

# target -> {clause id: why it fails}; every entry is a genuine deviation documented in
# docs/findings/torchtune.md. All three modules are conformant with torchtune 0.6.1.
DEVIATIONS: dict[str, dict[str, str]] = {
    "torchtune:rope": {},
    "torchtune:phi3": {},
    "torchtune:qwen2": {},
}


@pytest.mark.parametrize("target", sorted(DEVIATIONS))
def test_torchtune_adapter(target):
    proc, report = engine_report(target)
    expect_verdict(proc, report, DEVIATIONS[target])
    assert report["implementation"]["name"] == target
