"""SinusoidalCase: one drawn example bound to a sinusoidal implementation, with the reference and
tolerance helpers its checks use. A (sin, cos) pair is RoPE's rotation of a unit vector, so the
per-pair tolerance model applies unchanged with ||x_pair|| = 1.

A call is fn(positions): args = (positions,); the table comes back [seq, dim] in the Config's
dtype on its device.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from pe_spec.families.sinusoidal import reference
from pe_spec.families.sinusoidal.contract import Config
from pe_spec.spec import regimes, tolerance
from pe_spec.spec.contract import Implementation
from pe_spec.spec.dtypes import torch_dtype

from ..case import Args, Case
from ..engine import Example
from ..tensors import difference, to_f64


class SinusoidalCase(Case):
    family = "sinusoidal"
    config_type = Config
    INPUTS = ("positions",)
    PRESCRIBED = "the requested"

    def __init__(self, impl: Implementation, ex: Example, check_id: str) -> None:
        super().__init__(impl, ex, check_id)
        self.convention = reference.get_convention(impl.declared["convention"])
        self.freqs = reference.frequencies(self.cfg.dim, self.cfg.base, self.convention)
        self.sin_cols, self.cos_cols = reference.pair_channels(self.cfg.dim, self.convention)

    @classmethod
    def describe(cls, ex: Example) -> str:
        cfg = " ".join(f"{k}={v}" for k, v in ex.config.items())
        extra = "".join(f" {k}={v}" for k, v in ex.extra.items())
        shape = [len(ex.positions), ex.config.get("dim")]
        return f"config({cfg}) dtype={ex.dtype} device={ex.device} table.shape={shape} positions={list(ex.positions)}{extra}"

    def shape_regimes(self) -> set[str]:
        out = set()
        if self.cfg.dim > 256:
            out.add("wide-heads")
        if len(self.ex.positions) >= min(regimes.LONG_SEQUENCES):
            out.add("long-sequence")
        return out

    @classmethod
    def environments(cls, dtype: str) -> list[str]:
        return ["default-dtype-bf16"]

    # ---- inputs and calls ----
    def positions_tensor(self, positions: np.ndarray | None = None) -> torch.Tensor:
        return torch.tensor(np.asarray(self.positions if positions is None else positions, dtype=np.int64))

    def make_inputs(self, *, positions=None, seed=None, lead=None) -> Args:
        return (self.positions_tensor(positions),)

    def positions_of(self, args: Args) -> np.ndarray:
        return args[0].detach().cpu().numpy()

    def expected_output(self, args: Args):
        return (len(args[0]), self.cfg.dim), torch_dtype(self.cfg.dtype), torch.device(self.cfg.device)

    def shape_expected(self, args: Args) -> str:
        return f"for {len(args[0])} positions, expected {tuple(self.expected_output(args)[0])}"

    def table(self, positions: np.ndarray, fn=None) -> torch.Tensor:
        """The table rows for positions (a numpy array); raising or a wrong shape fails the clause."""
        return self.call((self.positions_tensor(positions),), fn)

    # ---- the specification ----
    def reference_table(self, positions: np.ndarray) -> np.ndarray:
        return reference.table(positions, self.cfg.dim, self.cfg.base, self.convention)

    def pairs(self, table) -> np.ndarray:
        """(sin, cos) of every pair: shape [seq, K, 2] in float64."""
        t = to_f64(table)
        return np.stack((t[..., self.sin_cols], t[..., self.cos_cols]), axis=-1)

    def pair_distance(self, a, b) -> np.ndarray:
        """||a_k - b_k|| per row and pair, [seq, K]."""
        return np.hypot(*np.moveaxis(self.pairs(difference(a, b)), -1, 0))

    def allowed(self, positions: np.ndarray) -> np.ndarray:
        """Per-pair allowance [seq, K] for a unit pair at positions (the convention's offset applied)."""
        q = np.asarray(positions) + self.convention.position_offset
        allowance = tolerance.pair_allowance(q, self.freqs, self.ex.dtype)
        return allowance.allowed(np.ones((len(q), len(self.freqs))))

    def amplitude(self) -> float:
        return tolerance.amplitude_bound(self.ex.dtype) + tolerance.floor_bound(self.ex.dtype)

    def expect_reference(self, y, args: Args, what: str) -> None:
        p = self.positions_of(args)
        self.measure_pairs(self.pair_distance(y, self.reference_table(p)), self.allowed(p), what, p)

    def expect_agree(self, a, b, args: Args, what: str, *, factor: float = 2.0) -> None:
        p = self.positions_of(args)
        observed = self.pair_distance(a, b)
        self.measure_pairs(observed, np.full(observed.shape, factor * self.amplitude()), what, p)

    def measure_pairs(self, observed: np.ndarray, allowed: np.ndarray, what: str, positions: np.ndarray,
                      *, per_row: bool = False) -> None:
        def locate(idx: tuple) -> str:
            s = idx[0]
            pair = f", pair {idx[1]} (w_k={self.freqs[idx[1]]:.6g})" if not per_row and len(idx) > 1 else ""
            return f"sequence index {s} (position {int(positions[s])}){pair}"

        self.measure(observed, allowed, what, locate)

    # ---- the universal checks' hooks: the rows of a table are its positions ----
    def row_inputs(self) -> Args:
        return self.make_inputs()

    def rows(self, args: Args) -> int:
        return len(args[0])

    def take_rows(self, args: Args, index: np.ndarray) -> Args:
        return (args[0][torch.as_tensor(index)].clone(),)

    def output_rows(self, y, index: np.ndarray, args: Args):
        return y[torch.as_tensor(index)]

    def on_device(self, device: str, args: Args):
        return self.build(cfg=replace(self.cfg, device=device)), args


CASE = SinusoidalCase
