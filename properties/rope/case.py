"""RopeCase: one drawn example bound to a RoPE implementation, with the reference and tolerance
helpers every RoPE check uses (so each check reads as its property, nothing else).

A call is fn(x, positions): args = (x, positions), x[..., seq, head_dim].
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from pe_spec.families.rope import reference
from pe_spec.families.rope.contract import Config, check_counterpart
from pe_spec.spec import regimes, tolerance
from pe_spec.spec.contract import ContractError, Implementation
from pe_spec.spec.dtypes import torch_dtype

from ..case import Args, Case
from ..engine import Example
from ..tensors import difference, to_f64


class RopeCase(Case):
    family = "rope"
    config_type = Config
    INPUTS = ("x", "positions")
    PRESCRIBED = "input"
    LAYOUTS = ("packed-qkv", "transposed", "strided-seq", "strided-last", "expanded")

    def __init__(self, impl: Implementation, ex: Example, check_id: str) -> None:
        super().__init__(impl, ex, check_id)
        self.layout: str = impl.declared["layout"]
        self.dtype = torch_dtype(ex.dtype)
        self.device = torch.device(ex.device)
        self.inv_freq = reference.inverse_frequencies(self.cfg.rotary_dim, self.cfg.base)

    @classmethod
    def describe(cls, ex: Example) -> str:
        cfg = " ".join(f"{k}={v}" for k, v in ex.config.items())
        extra = "".join(f" {k}={v}" for k, v in ex.extra.items())
        shape = [*ex.lead, len(ex.positions), ex.config["head_dim"]]
        return f"config({cfg}) dtype={ex.dtype} device={ex.device} x.shape={shape} positions={list(ex.positions)}{extra}"

    @classmethod
    def environments(cls, dtype: str) -> list[str]:
        # Ambient autocast is how fp32 models meet bf16 (mixed precision); half-precision inputs
        # under a bf16 autocast are not a real configuration (and CPU autocast rejects fp16 cat).
        return ["autocast-bf16", "default-dtype-bf16"] if dtype == "float32" else ["default-dtype-bf16"]

    def shape_regimes(self) -> set[str]:
        ex, out = self.ex, set()
        seq, lead = len(ex.positions), tuple(ex.lead)
        if ex.config["head_dim"] > 256:
            out.add("wide-heads")
        if len(lead) >= 2 and lead[-1] >= min(regimes.MANY_HEADS):
            out.add("many-heads")
        if seq >= min(regimes.LONG_SEQUENCES):
            out.add("long-sequence")
        if seq == 1 and len(lead) == 2 and min(lead) > 1:
            out.add("batched-decode")
        return out

    # ---- inputs ----
    def positions_tensor(self, positions: np.ndarray | None = None) -> torch.Tensor:
        p = self.positions if positions is None else positions
        return torch.tensor(np.asarray(p, dtype=np.int64), device=self.device)

    def make_x(self, seed: int | None = None, lead: tuple[int, ...] | None = None, seq: int | None = None) -> torch.Tensor:
        """Standard-normal values drawn in float32, scaled to the example's magnitude regime and rounded
        to the dtype; in the large-storage regime, a view at the far end of a large buffer."""
        rng = np.random.default_rng(self.ex.seed if seed is None else seed)
        shape = (*(self.ex.lead if lead is None else lead), len(self.ex.positions) if seq is None else seq,
                 self.cfg.head_dim)
        values = rng.standard_normal(shape, dtype=np.float32)
        magnitude = self.ex.inputs.get("magnitude")
        if magnitude:
            values = np.clip(values.astype(np.float64), -regimes.MAGNITUDE_CLIP, regimes.MAGNITUDE_CLIP)
            values *= regimes.magnitude_scale(magnitude, self.ex.dtype)
        x = torch.from_numpy(values).to(self.dtype).to(self.device)
        return far_view(x) if self.ex.inputs.get("storage") == "large" else x

    def make_inputs(self, *, positions=None, seed=None, lead=None) -> Args:
        p = self.positions if positions is None else np.asarray(positions, dtype=np.int64)
        return self.make_x(seed=seed, lead=lead, seq=len(p)), self.positions_tensor(p)

    def positions_of(self, args: Args) -> np.ndarray:
        return args[1].detach().cpu().numpy()

    def expected_output(self, args: Args):
        x = args[0]
        return tuple(x.shape), x.dtype, x.device

    def shape_expected(self, args: Args) -> str:
        return f"for input shape {tuple(args[0].shape)}"

    def rot(self, x: torch.Tensor, positions: np.ndarray, fn: Callable | None = None) -> torch.Tensor:
        """call((x, positions)): the kernel's output for x at positions (a numpy array)."""
        return self.call((x, self.positions_tensor(positions)), fn)

    # ---- the specification ----
    def reference(self, x: torch.Tensor, positions: np.ndarray) -> np.ndarray:
        return reference.apply(to_f64(x), positions, rotary_dim=self.cfg.rotary_dim, base=self.cfg.base,
                               layout=self.layout)

    def pair_norms(self, v) -> np.ndarray:
        return reference.pair_norms(to_f64(v), rotary_dim=self.cfg.rotary_dim, layout=self.layout)

    def allowed(self, x, positions: np.ndarray, *, include_phase: bool = True) -> np.ndarray:
        """Per-pair allowance for rotating x at positions, shape x.shape[:-1] + (npairs,)."""
        allowance = tolerance.pair_allowance(positions, self.inv_freq, self.ex.dtype)
        return allowance.allowed(self.pair_norms(x), include_phase=include_phase)

    def expect_rotation(self, y: torch.Tensor, x: torch.Tensor, positions: np.ndarray, what: str) -> None:
        """Every rotated pair of y within the allowance of ref(x, positions)."""
        err = self.pair_norms(to_f64(y) - self.reference(x, positions))
        self.measure_pairs(err, self.allowed(x, positions), what, positions)

    def expect_reference(self, y, args: Args, what: str) -> None:
        self.expect_rotation(y, args[0], self.positions_of(args), what)

    def expect_agree(self, a, b, args: Args, what: str, *, factor: float = 2.0) -> None:
        x, p = args[0], self.positions_of(args)
        self.measure_pairs(self.pair_norms(difference(a, b)), factor * self.allowed(x, p, include_phase=False), what, p)

    def measure_pairs(self, observed: np.ndarray, allowed: np.ndarray, what: str, positions: np.ndarray,
                      *, per_row: bool = False) -> None:
        """Compare errors per pair ([..., seq, npairs]) or, with per_row, per row ([..., seq])."""
        self.measure(observed, allowed, what, lambda idx: self.locate(idx + (None,) if per_row else idx, positions))

    def locate(self, idx: tuple, positions: np.ndarray) -> str:
        """Index [..rows, seq, pair] of an error array, in words (pair None for per-row errors)."""
        *rows, s, i = idx
        where = f"row {tuple(int(r) for r in rows)}, " if rows else ""
        pair = f", pair {i} (w_i={self.inv_freq[i]:.6g})" if i is not None else ""
        return f"{where}sequence index {s} (position {int(positions[s])}){pair}"

    # ---- the universal checks' hooks ----
    def row_inputs(self) -> Args:
        """Inputs with at least two (batch, head) rows, so there is something to permute."""
        lead = self.ex.lead if int(np.prod(self.ex.lead)) >= 2 else (2, *self.ex.lead)
        return self.make_inputs(lead=lead)

    def rows(self, args: Args) -> int:
        return int(np.prod(args[0].shape[:-2]))

    def take_rows(self, args: Args, index: np.ndarray) -> Args:
        x, p = args
        flat = x.reshape(-1, *x.shape[-2:])[torch.as_tensor(index)]
        shape = x.shape if len(index) == self.rows(args) else (*([1] * (x.dim() - 3)), len(index), *x.shape[-2:])
        return flat.reshape(shape), p

    def output_rows(self, y, index: np.ndarray, args: Args):
        x = self.take_rows(args, index)[0]
        return y.reshape(-1, *y.shape[-2:])[torch.as_tensor(index)].reshape(x.shape)

    def non_contiguous(self, kind: str) -> Args:
        """A view with the same values as row_inputs()'s x but non-contiguous storage."""
        x, p = self.row_inputs()
        if kind == "transposed":      # stored [..., seq, heads, dim], viewed [..., heads, seq, dim]
            view = x.transpose(-2, -3).contiguous().transpose(-2, -3) if x.dim() >= 3 else x.t().contiguous().t()
        elif kind == "strided-seq":   # every other row of a longer buffer
            buf = torch.zeros(*x.shape[:-2], 2 * x.shape[-2], x.shape[-1], dtype=x.dtype, device=x.device)
            buf[..., ::2, :] = x
            view = buf[..., ::2, :]
        elif kind == "strided-last":  # every other channel of a twice-wider tensor: x.stride(-1) == 2
            buf = torch.zeros(*x.shape[:-1], 2 * x.shape[-1], dtype=x.dtype, device=x.device)
            buf[..., ::2] = x
            view = buf[..., ::2]
        elif kind == "expanded":      # one (batch) row broadcast over a stride-0 leading dim
            view = x.reshape(-1, *x.shape[-2:])[:1].expand(2, *x.shape[-2:])
        else:                         # packed-qkv: the k slice of a [..., seq, 3 * head_dim] projection output
            d = x.shape[-1]
            buf = torch.zeros(*x.shape[:-1], 3 * d, dtype=x.dtype, device=x.device)
            buf[..., d:2 * d] = x
            view = buf[..., d:2 * d]
        return view, p

    def aliasing_calls(self) -> list[tuple[str, Args]]:
        x = self.make_x()
        return [("at the drawn positions", (x, self.positions_tensor())),
                ("at positions all 0 (the rotation is the identity)",
                 (x, self.positions_tensor(np.zeros_like(self.positions))))]

    def on_device(self, device: str, args: Args):
        return self.fn, tuple(a.to(device) for a in args)

    # ---- device.counterpart ----
    def counterpart(self) -> Implementation:
        """The declared counterpart, loaded on first use; a bad one fails the clause."""
        from .. import loading

        declared = self.impl.get("counterpart")
        try:
            other = declared if isinstance(declared, Implementation) else loading.load_cached(declared)
            check_counterpart(other, self.layout)
        except (loading.LoadError, ContractError) as e:
            self.fail(f"its counterpart {declared!r} cannot be used: {e}")
        return other

    def expect_counterpart(self, y, y_other, args: Args, what: str) -> None:
        x, p = args[0], self.positions_of(args)
        allowed = tolerance.arithmetic_allowance(self.pair_norms(x), self.ex.dtype)
        self.measure_pairs(self.pair_norms(difference(y, y_other)), allowed, what, p)
        r = self.cfg.rotary_dim
        if r < x.shape[-1] and np.any(difference(y[..., r:], y_other[..., r:]) != 0):
            self.fail(f"{what}: the pass-through channels (>= {r}) differ")


def far_view(x: torch.Tensor) -> torch.Tensor:
    """x's values in a view at the far end of an uninitialised buffer of LARGE_STORAGE_ELEMENTS
    (only x's own pages and the NaN guard before them are touched): every element's storage index
    is past 2**24."""
    n = x.numel()
    buf = torch.empty(max(regimes.LARGE_STORAGE_ELEMENTS, 2 * n + regimes.LARGE_STORAGE_GUARD), dtype=x.dtype,
                      device=x.device)
    start = buf.numel() - n
    buf[start - regimes.LARGE_STORAGE_GUARD:start].fill_(float("nan"))
    view = buf[start:].view(x.shape)
    view.copy_(x)
    return view


CASE = RopeCase
