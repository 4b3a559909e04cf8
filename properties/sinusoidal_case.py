"""SinusoidalCase: one drawn example bound to a sinusoidal implementation, with the reference and
tolerance helpers its checks use. A (sin, cos) pair is RoPE's rotation of a unit vector, so the
per-pair tolerance model applies unchanged with ||x_pair|| = 1."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from pe_spec import limits, tolerance
from pe_spec.contract import Implementation, Unsupported
from pe_spec.sinusoidal import reference
from pe_spec.sinusoidal.contract import Config

from .harness import Case, Example, implementation_raised, measure
from .rope_case import to_f64, unreadable_tensor


class SinusoidalCase(Case):
    family = "sinusoidal"
    config_type = Config

    def __init__(self, impl: Implementation, ex: Example, check_id: str) -> None:
        super().__init__(impl, ex, check_id)
        self.convention = reference.get_convention(impl.declared["convention"])
        self.freqs = reference.frequencies(self.cfg.dim, self.cfg.base, self.convention)
        self.sin_cols, self.cos_cols = reference.pair_channels(self.cfg.dim, self.convention)

    def positions_tensor(self, positions: np.ndarray | None = None) -> torch.Tensor:
        return torch.tensor(np.asarray(self.positions if positions is None else positions, dtype=np.int64))

    def invoke(self, positions: torch.Tensor, fn: Callable | None = None):
        f = fn or self.fn
        with limits.implementation_call("kernel"):
            return f(positions)

    def call(self, positions: np.ndarray, fn: Callable | None = None) -> torch.Tensor:
        """The table rows for positions; raising or anything but a [seq, dim] tensor is a failure."""
        try:
            y = self.invoke(self.positions_tensor(positions), fn)
        except Unsupported:
            raise
        except (Exception, SystemExit) as e:
            implementation_raised(self, "the implementation", e)
        if not isinstance(y, torch.Tensor):
            self.fail(f"the implementation returned {type(y).__name__}, not a torch.Tensor")
        expected = (len(positions), self.cfg.dim)
        if tuple(y.shape) != expected:
            self.fail(f"the implementation returned shape {tuple(y.shape)} for {len(positions)} positions, "
                      f"expected {expected}")
        unreadable = unreadable_tensor(y)
        if unreadable:
            self.fail(f"the implementation returned {unreadable}")
        return y

    def pairs(self, table) -> np.ndarray:
        """(sin, cos) of every pair: shape [seq, K, 2] in float64."""
        t = to_f64(table)
        return np.stack((t[..., self.sin_cols], t[..., self.cos_cols]), axis=-1)

    def allowed(self, positions: np.ndarray) -> np.ndarray:
        """Per-pair allowance [seq, K] for a unit pair at positions (the convention's offset applied)."""
        q = np.asarray(positions) + self.convention.position_offset
        allowance = tolerance.rope_allowance(q, self.freqs, self.ex.dtype)
        return allowance.allowed(np.ones((len(q), len(self.freqs))))

    def amplitude(self) -> float:
        return tolerance.amplitude_bound(self.ex.dtype) + tolerance.floor_bound(self.ex.dtype)

    def measure(self, observed: np.ndarray, allowed: np.ndarray, what: str, positions: np.ndarray,
                *, per_row: bool = False) -> None:
        def locate(idx: tuple) -> str:
            s = idx[0]
            pair = f", pair {idx[1]} (w_k={self.freqs[idx[1]]:.6g})" if not per_row and len(idx) > 1 else ""
            return f"sequence index {s} (position {int(positions[s])}){pair}"

        measure(self.check_id, self.ex, observed, allowed, what, locate)
