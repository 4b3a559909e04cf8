"""HuggingFace transformers' positional encodings, checked through pe-spec's public plug-in contract
(pe_spec/adapters/transformers.py; findings in docs/findings/transformers.md)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO, engine_report, expect_verdict

_DEFAULT_DTYPE = ("built under torch.set_default_dtype(bfloat16), the table keeps bfloat16 values when the "
                  "model is cast to float32 (docs/findings/transformers.md, T2)")

# target -> {clause id: why it fails}; every entry is a genuine deviation of transformers 5.23.0
# documented in docs/findings/transformers.md.
DEVIATIONS: dict[str, dict[str, str]] = {
    "transformers:llama": {},
    "transformers:gpt_neox": {},
    "transformers:phi": {},
    "transformers:gptj": {"impl.environment": "create_sinusoidal_positions computes its inverse frequencies in the "
                                              "default dtype (docs/findings/transformers.md, T1)"},
    "transformers:marian": {"impl.environment": _DEFAULT_DTYPE},
    "transformers:speech2text": {"impl.environment": _DEFAULT_DTYPE},
    "transformers:distilbert": {"impl.environment": _DEFAULT_DTYPE},
}


@pytest.mark.slow_tier
@pytest.mark.parametrize("target", sorted(DEVIATIONS))
def test_transformers_adapter(target):
    proc, report = engine_report(target)
    expect_verdict(proc, report, DEVIATIONS[target])
    assert report["implementation"]["name"] == target


# Installed first on sys.meta_path of every interpreter the CLI starts (its check runs in a child
# process): `import transformers` fails exactly as it does where the library is not installed.
_BLOCK = '''import sys
class _NoTransformers:
    def find_spec(self, name, path=None, target=None):
        if name == "transformers" or name.startswith("transformers."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoTransformers())
'''


def test_missing_transformers_is_one_line_naming_the_extra(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(_BLOCK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "pe_spec", "check", "transformers:llama", "-q"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "No module named 'transformers'" in lines[0], lines[0]
    assert "pip install 'pe-spec[transformers]'" in lines[0], lines[0]
