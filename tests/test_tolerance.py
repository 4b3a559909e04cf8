"""The tolerance model admits correct fp32 arithmetic at long context and rejects the classic
precision bugs by orders of magnitude (numbers computed, not assumed)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pe_spec.spec import tolerance
from pe_spec.spec.dtypes import UNIT_ROUNDOFF
from pe_spec.families.rope import reference


def _fp32_phase_error(positions, rotary_dim, base, inv_freq_dtype=torch.float32, pos_dtype=torch.float32):
    """|angle a typical kernel computes - exact angle| per (position, pair), reduced mod 2pi."""
    exps = torch.arange(0, rotary_dim, 2, dtype=torch.int64).to(torch.float32) / rotary_dim
    inv = (1.0 / (base ** exps)).to(inv_freq_dtype).to(torch.float32)
    pos = torch.as_tensor(positions).to(pos_dtype).to(torch.float32)
    ang = (pos[:, None] * inv[None, :]).double().numpy()
    exact = reference.angles(np.asarray(positions), rotary_dim, base)
    d = np.mod(ang - exact + np.pi, 2 * np.pi) - np.pi
    return np.abs(d)


POSITIONS = np.array([2**11 + 1, 2**16 + 3, 2**20 + 7, 2**24 - 1, 3 * 2**22 + 5])


@pytest.mark.parametrize("base", [10000.0, 500000.0, 1e6])
@pytest.mark.parametrize("rotary_dim", [64, 128])
def test_fp32_angle_error_is_within_the_phase_bound(base, rotary_dim):
    err = _fp32_phase_error(POSITIONS, rotary_dim, base)
    bound = tolerance.phase_bound(POSITIONS, reference.inverse_frequencies(rotary_dim, base), "float32")
    assert np.all(err <= bound), float((err / bound).max())


@pytest.mark.parametrize("bug", ["inv_freq_bf16", "positions_fp16"])
def test_precision_bugs_exceed_the_phase_bound_by_orders_of_magnitude(bug):
    positions = np.array([2**11 + 1, 3000, 4095])
    kw = {"inv_freq_dtype": torch.bfloat16} if bug == "inv_freq_bf16" else {"pos_dtype": torch.float16}
    err = _fp32_phase_error(positions, 128, 10000.0, **kw)
    bound = tolerance.phase_bound(positions, reference.inverse_frequencies(128, 10000.0), "float32")
    assert (err / bound).max() > 100


def test_phase_bound_is_per_pair_and_grows_with_position():
    w = reference.inverse_frequencies(128, 10000.0)
    b = tolerance.phase_bound(np.array([2**11, 2**20]), w, "float32")
    assert b.shape == (2, 64)
    assert np.all(b[1] > b[0])
    assert b[0, -1] < b[0, 0] / 1000       # the slow pairs get a far smaller allowance


def test_compute_precision_is_fp32_for_every_dtype():
    # float64 inputs may be rotated by fp32 angles (transformers' Llama path does): no stricter angle.
    for dt in ("float64", "float32", "bfloat16", "float16"):
        assert tolerance.compute_roundoff(dt) == UNIT_ROUNDOFF["float32"]
    assert tolerance.amplitude_bound("bfloat16") > tolerance.amplitude_bound("float32")


def test_allowance_caps_the_phase_at_any_rotation():
    a = tolerance.pair_allowance(np.array([2**30]), np.array([1.0]), "float32")
    allowed = a.allowed(np.array([[1.0]]))
    assert allowed[0, 0] == pytest.approx(tolerance.MAX_PHASE_DISPLACEMENT + a.amplitude, rel=1e-12)
