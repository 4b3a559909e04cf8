"""Known misreadings of the RoPE formulas: what a kernel that made each one computes.

A diagnosis (pe_properties.rope.diagnosis) recovers a kernel's per-pair frequencies and its
effective positions from its outputs and names the misreading they match exactly, so a verdict can
open with the cause instead of the clauses it broke. Each entry is a known bug class
(../shared/references/known-bugs.md); the spec's own schedule is reference.inverse_frequencies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from pe_spec.families.rope import reference


def _rounded(w: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    return torch.from_numpy(w).to(dtype).to(torch.float64).numpy()


@dataclass(frozen=True)
class FrequencyMisreading:
    name: str
    cause: str                                        # what the kernel does, in words
    schedule: Callable[[int, int, float], np.ndarray]  # (rotary_dim, head_dim, base) -> w_i
    applies: Callable[[int, int, float], bool] = lambda r, d, b: True


FREQUENCIES: tuple[FrequencyMisreading, ...] = (
    FrequencyMisreading("inv-freq-bf16", "its inverse frequencies are rounded to bfloat16 (computed or stored in bf16)",
                        lambda r, d, b: _rounded(reference.inverse_frequencies(r, b), torch.bfloat16)),
    FrequencyMisreading("inv-freq-fp16", "its inverse frequencies are rounded to float16",
                        lambda r, d, b: _rounded(reference.inverse_frequencies(r, b), torch.float16)),
    FrequencyMisreading("exponent-i-over-d", "its exponent is i/d with i the pair index (the paper's 2i/d read as "
                        "i/d): w_i = base**(-i/rotary_dim)",
                        lambda r, d, b: b ** (-np.arange(r // 2) / r)),
    FrequencyMisreading("exponent-head-dim", "its exponent divides by head_dim, not rotary_dim: "
                        "w_i = base**(-2i/head_dim)",
                        lambda r, d, b: b ** (-2.0 * np.arange(r // 2) / d), lambda r, d, b: d != r),
    FrequencyMisreading("roformer-one-based", "it uses RoFormer's 1-based theta_i = base**(-2(i-1)/d) with a 0-based "
                        "i: every frequency base**(2/rotary_dim) too fast",
                        lambda r, d, b: b ** (-2.0 * (np.arange(r // 2) - 1) / r)),
    FrequencyMisreading("exponent-one-based", "its pair index starts at 1: w_i = base**(-2(i+1)/rotary_dim)",
                        lambda r, d, b: b ** (-2.0 * (np.arange(r // 2) + 1) / r)),
    FrequencyMisreading("base-ignored", "it ignores the configured base and uses 10000",
                        lambda r, d, b: reference.inverse_frequencies(r, 10000.0), lambda r, d, b: b != 10000.0),
)

# The farthest position a diagnosis probes past max_position (2 * max_position + 3 when lower).
MAX_PROBED_POSITION = 2**26

# Effective positions q(p) a kernel may rotate position p by, each a known bug class; ``index`` is
# the token's index in the call's sequence, ``m`` the configured max_position.
POSITIONS: tuple[tuple[str, str, Callable[[int, int, int], float]], ...] = (
    ("ignored-index", "it rotates each token by its index in the call (torch.arange(seq)), not by its position",
     lambda p, index, m: index),
    ("one-based", "it rotates position p as p + 1 (one-based positions)", lambda p, index, m: p + 1),
    ("off-by-one", "it rotates position p as p - 1", lambda p, index, m: p - 1),
    ("positions-fp16", "its positions are rounded to float16 (exact only below 2048)",
     lambda p, index, m: float(torch.tensor(float(p)).to(torch.float16))),
    ("positions-bf16", "its positions are rounded to bfloat16 (exact only below 256)",
     lambda p, index, m: float(torch.tensor(float(p)).to(torch.bfloat16))),
)
