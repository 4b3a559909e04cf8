"""The normative error model: how far a CORRECT kernel may be from exact math (one place).

Every clause that compares numbers takes its allowed error from here; docs/tolerance.md is
generated from the constants and derivation below. The model is per rotated pair: each pair i
has its own frequency w_i, hence its own angle error, so a bound sized for the fastest pair at
long context does not hide an error in the slow ones.

Let u_o be the unit roundoff of the output dtype and u_c = u_fp32 the compute roundoff: angles,
cos and sin are computed in at least fp32, and fp32 is enough for every dtype, float64 included
(a float64 input may be rotated by fp32 angles, as transformers' Llama path does: what float64
buys is exact storage of x and of the output, not exact angles).

1. Inverse frequency. w_i = base**(-2i/d) computed as pow/exp of a rounded exponent has
   relative error at most u_c * (PHASE_LOG_FACTOR * |ln w_i| + PHASE_CONST - 2): the exponent
   (2i/d, or its product with ln base) is rounded, and exp amplifies an absolute error in its
   argument into the same relative error of its result (up to 2 |ln w_i| u_c when both the
   exponent and ln base are rounded), plus a few roundings (pow or exp, the reciprocal).
2. Angle. theta = fl(fl(p) * w): position rounding (p >= 2**24 in fp32) and the product add
   2 u_c relative. The phase error is
   |theta_hat - theta| <= |p| w_i u_c (PHASE_LOG_FACTOR |ln w_i| + PHASE_CONST).
   A rotation by a wrong angle moves x_pair by ||x_pair|| * 2|sin(dphi/2)| <= ||x_pair|| min(dphi, 2).
3. Amplitude. cos/sin of the rounded angle (<= 2 u_c absolute), possibly cached in the output
   dtype (u_o each), two products and a sum rounded to the output dtype: per pair the error
   vector has norm at most ||x_pair|| (AMPLITUDE_OUT * u_o + AMPLITUDE_COMPUTE * u_c).
4. Floor. Near zero, results below the smallest normal number may be flushed to zero and
   subnormal inputs read as zero (FTZ/DAZ, the default of GPU and vectorised CPU paths): at most
   one smallest normal per component, under sqrt(2) per pair, so FLOOR_NORMALS = 2 smallest
   normals of the range dtype (range_dtype: the output dtype, fp32 for float64, which may be
   computed in fp32) per pair. Inputs are drawn across each dtype's whole range (the magnitude
   regimes, pe_spec.spec.regimes): up to LARGEST / 64, where no correct kernel overflows (each
   output component is a sum of two products of at most LARGEST / 64), down to tiny values
   whose components reach the subnormals; the relative terms hold throughout, and below a few
   smallest normals the floor allows the flush.

A kernel that computes w or theta in bf16/fp16, or casts positions to half precision, has a
relative angle error of order u_bf16 = 2**-8 (u_fp16 = 2**-11) where the allowance is
(PHASE_LOG_FACTOR |ln w_i| + PHASE_CONST) 2**-24: hundreds to thousands of times more
(docs/tolerance.md tabulates it). w_0 = 1 is exact in every format, so such bugs show from
pair 1 on.

Arithmetic allowance (device.counterpart). Two kernels that rotate by the SAME cos/sin values
(an accelerator kernel and the library's eager path it replaces, fed one cos/sin tensor) share
steps 1 and 2 and the cos/sin evaluation and caching of step 3: only their products and sums
differ. Per component, fl(fl(a c) + fl(b s)) is within 2 u_o (|a c| + |b s|) <= 2 u_o ||x_pair||
of the exact value (Cauchy-Schwarz, |(c, s)| = 1), so per pair each is within 2 sqrt(2) u_o ||x_pair||
and the two within 4 sqrt(2) u_o ||x_pair|| < A ||x_pair||. The allowance between them is
therefore the arithmetic part of the model alone, with no phase term:
    arithmetic_allowance = ||x_pair|| * A + F    (A = amplitude_bound, F = floor_bound)
At long context the phase term reaches MAX_PHASE_DISPLACEMENT and any rotation passes the
reference comparison; this allowance stays at a few output ulps at every position.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pe_spec.spec.dtypes import SMALLEST_NORMAL, UNIT_ROUNDOFF, check_name

PHASE_LOG_FACTOR = 2.0
PHASE_CONST = 6.0
AMPLITUDE_OUT = 8.0
AMPLITUDE_COMPUTE = 4.0
FLOOR_NORMALS = 2.0
# A rotation by any wrong angle moves a vector by at most twice its norm.
MAX_PHASE_DISPLACEMENT = 2.0


def output_roundoff(dtype: str) -> float:
    return UNIT_ROUNDOFF[check_name(dtype)]


def compute_roundoff(dtype: str) -> float:
    """Angles, cos and sin are computed in at least fp32, which is enough for every output dtype."""
    check_name(dtype)
    return UNIT_ROUNDOFF["float32"]


def range_dtype(dtype: str) -> str:
    """The dtype whose range bounds a correct kernel's arithmetic on inputs of dtype: the dtype
    itself, fp32 for float64 (which may be computed in fp32)."""
    return "float32" if check_name(dtype) == "float64" else dtype


def phase_bound(positions: np.ndarray, inv_freq: np.ndarray, dtype: str) -> np.ndarray:
    """Allowed angle error (radians) per (position, pair): shape positions.shape + (npairs,)."""
    u_c = compute_roundoff(dtype)
    p = np.abs(np.asarray(positions, dtype=np.float64))[..., None]
    w = np.asarray(inv_freq, dtype=np.float64)
    per_unit_angle = u_c * (PHASE_LOG_FACTOR * np.abs(np.log(w)) + PHASE_CONST)
    return p * w * per_unit_angle


def amplitude_bound(dtype: str) -> float:
    """Allowed error per pair relative to ||x_pair|| that does not come from the angle."""
    return AMPLITUDE_OUT * output_roundoff(dtype) + AMPLITUDE_COMPUTE * compute_roundoff(dtype)


def floor_bound(dtype: str) -> float:
    return FLOOR_NORMALS * SMALLEST_NORMAL[range_dtype(dtype)]


@dataclass(frozen=True)
class PairAllowance:
    """allowed = pair_norm * (min(phase, 2) + amplitude) + floor, per pair."""

    phase: np.ndarray       # radians, shape positions.shape + (npairs,)
    amplitude: float
    floor: float

    def allowed(self, pair_norm: np.ndarray, *, include_phase: bool = True) -> np.ndarray:
        rel = self.amplitude + (np.minimum(self.phase, MAX_PHASE_DISPLACEMENT) if include_phase else 0.0)
        return pair_norm * rel + self.floor


def pair_allowance(positions: np.ndarray, inv_freq: np.ndarray, dtype: str) -> PairAllowance:
    return PairAllowance(phase_bound(positions, inv_freq, dtype), amplitude_bound(dtype), floor_bound(dtype))


def arithmetic_allowance(pair_norm: np.ndarray, dtype: str) -> np.ndarray:
    """Allowed ||y_i - y'_i|| between two kernels rotating by the same cos/sin: ||x_pair|| * A + F.

    The arithmetic part of the model only (the module docstring derives it); the angle term is
    shared and excluded. Equal to PairAllowance.allowed(pair_norm, include_phase=False)."""
    return np.asarray(pair_norm, dtype=np.float64) * amplitude_bound(dtype) + floor_bound(dtype)
