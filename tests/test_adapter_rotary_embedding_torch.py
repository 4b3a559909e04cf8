"""rotary-embedding-torch, one implementation per public path, checked through pe-spec's public
plug-in contract (pe_spec/adapters/rotary_embedding_torch.py; findings in
docs/findings/rotary-embedding-torch.md)."""
from __future__ import annotations

import json

import pytest
import torch

from conftest import engine_report, expect_verdict, rope_example, run_cli

# Deviation 1. RotaryEmbedding.rotate_queries_or_keys builds its positions as
# torch.arange(seq_len, dtype=t.dtype) + offset: in bf16 (fp16) q/k every position above 256
# (2048) is rounded to the input's precision, and fp16 positions >= 65520 become inf (NaN output).
_INPUT_DTYPE_POSITIONS = ("positions built in the input dtype (get_seq_pos(..., dtype=t.dtype)): "
                          "bf16/fp16 q/k are rotated by rounded positions; docs/findings/rotary-embedding-torch.md")
# Deviation 2. Built under set_default_dtype(bfloat16), its cached_freqs buffer is bf16 too: a cache
# hit returns angles rounded to bf16, in every dtype. impl.environment's second call (after a
# prefill from position 0, which fills the cache) is such a hit.
_BF16_BUFFER = "; its bf16 cached_freqs buffer under a bf16 default dtype"
# Deviation 4. The freqs cache is keyed by length only: a bf16/fp16 call from offset 0 fills it
# with the angles of rounded positions, and a later fp32/fp64 call of the same module reads them.
_POISONED = "; a cache filled by an earlier bf16/fp16 call serves fp32/fp64 calls (the cache ignores dtype)"
# Deviation 5. A negative offset slices cached_freqs Python-style (cached_freqs[-k:-k + n]): rows
# of the far end of the 8192-row buffer (zeros, unless filled), never an error.
_NEGATIVE = "; a negative offset slices the freqs cache Python-style (wrapped rows, zeros: identity)"

_POSITION_PATH = {cid: _INPUT_DTYPE_POSITIONS for cid in (
    "rope.reference", "rope.relative-shift", "rope.norm", "rope.composition", "rope.gradient",
    "rope.positions", "rope.cache-coverage", "impl.environment", "impl.compile")}
_POSITION_PATH["impl.environment"] += _BF16_BUFFER
_POSITION_PATH["rope.cache-coverage"] += _NEGATIVE

# name -> {clause id: why it fails}
DEVIATIONS: dict[str, dict[str, str]] = {
    "rotate_queries_or_keys": {**_POSITION_PATH, "rope.composition": _POSITION_PATH["rope.composition"] + _POISONED},
    # rotate_queries_with_cached_keys calls rotate_queries_or_keys
    "cached_keys": {**_POSITION_PATH, "rope.gradient": _POSITION_PATH["rope.gradient"] + _POISONED,
                    "rope.composition": _POSITION_PATH["rope.composition"] + _POISONED},
    "apply_rotary_emb": {},                 # forward(positions) casts positions to fp32: conformant
    "partial_start_index": {},
}

# Deviation 1 is the half-precision path only. The fp32 and fp64 tests that fail on the ci draws
# are those of deviations 2, 4 and 5 (4: draw-dependent, where an earlier half-precision test of
# the same configuration filled the cache; pinned deterministically below).
FULL_PRECISION_FAILS: dict[str, set[str]] = {
    "rotate_queries_or_keys": {"impl.environment", "rope.cache-coverage", "rope.composition"},
    "cached_keys": {"impl.environment", "rope.cache-coverage", "rope.composition", "rope.gradient"},
}


@pytest.mark.slow_tier
@pytest.mark.parametrize("name", sorted(DEVIATIONS))
def test_rotary_embedding_torch_adapter(name):
    target = f"rotary-embedding-torch:{name}"
    proc, report = engine_report(target)
    expect_verdict(proc, report, DEVIATIONS[name])
    assert report["implementation"]["name"] == target
    for dtype in ("float32", "float64"):
        failed = {c["id"] for c in report["clauses"] for t in c["tests"]
                  if t["dtype"] == dtype and t["status"] not in ("pass", "skip")}
        assert failed <= FULL_PRECISION_FAILS.get(name, set()), (dtype, failed)
        if name in FULL_PRECISION_FAILS:
            assert {"impl.environment", "rope.cache-coverage"} <= failed, (dtype, failed)


def _rotated(module, x, offset=0):
    return module.rotate_queries_or_keys(x, seq_dim=-2, offset=offset)


def test_freqs_cache_filled_in_half_precision_serves_fp32():
    """Deviation 4: a bf16 prefill from offset 0 fills cached_freqs with the angles of bf16-rounded
    positions; the next fp32 call of that length reads them (position 257 is rotated as 256)."""
    from rotary_embedding_torch import RotaryEmbedding

    x = torch.randn(1, 1, 300, 8, generator=torch.Generator().manual_seed(0))
    fresh = _rotated(RotaryEmbedding(dim=8, cache_if_possible=False), x)
    module = RotaryEmbedding(dim=8)
    _rotated(module, x.bfloat16())
    poisoned = _rotated(module, x)
    assert torch.equal(poisoned[..., :256, :], fresh[..., :256, :])   # bf16 holds every position below 256
    assert (poisoned[..., 257, :] - fresh[..., 257, :]).abs().max() > 0.1


def test_negative_offset_reads_the_freqs_cache_python_style():
    """Deviation 5, replayed through pe-spec: offset -3 returns the input unrotated (a zero row of the cache)."""
    example = rope_example((1, 1), [0], extra={"beyond": [0], "below": [-3]})
    proc = run_cli("repro", "rotary-embedding-torch:rotate_queries_or_keys", "rope.cache-coverage", json.dumps(example))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert "at positions [-3] (below 0) the kernel returned wrong values instead of raising" in proc.stdout, proc.stdout
