"""RopeCase: one drawn example bound to the implementation, with the reference and tolerance
helpers every RoPE check uses (so each check reads as its property, nothing else)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from pe_spec import limits, tolerance
from pe_spec.contract import Implementation, Unsupported
from pe_spec.dtypes import torch_dtype
from pe_spec.rope import reference
from pe_spec.rope.contract import Config

from .harness import Case, Example, implementation_raised, measure


class RopeCase(Case):
    family = "rope"   # the implementations whose checks use this case type
    config_type = Config

    def __init__(self, impl: Implementation, ex: Example, check_id: str) -> None:
        super().__init__(impl, ex, check_id)
        self.layout: str = impl.declared["layout"]
        self.dtype = torch_dtype(ex.dtype)
        self.device = torch.device(ex.device)
        self.inv_freq = reference.inverse_frequencies(self.cfg.rotary_dim, self.cfg.base)

    # ---- calling the kernel ----
    def invoke(self, x: torch.Tensor, positions: torch.Tensor, fn: Callable | None = None, *,
               restore: bool = True):
        """Call the kernel and return whatever it returns; its exceptions propagate.

        A kernel that writes into x is impl.no-mutation's business alone: with ``restore`` the
        input is put back (after copying an output that may alias it), so every other clause
        judges the output against the x it was given.
        """
        before = x.detach().clone() if restore else None
        f = fn or self.fn
        with limits.implementation_call("kernel"):
            y = f(x, positions)
        if before is not None and not bitwise_equal(x.detach(), before):
            if isinstance(y, torch.Tensor):
                y = y.clone()
            with torch.no_grad():
                x.copy_(before)
        return y

    def call(self, x: torch.Tensor, positions: torch.Tensor, fn: Callable | None = None, *,
             restore: bool = True) -> torch.Tensor:
        """invoke(), where raising or returning anything but a tensor shaped like x is a failure
        of the clause at hand."""
        try:
            y = self.invoke(x, positions, fn, restore=restore)
        except Unsupported:
            raise
        except (Exception, SystemExit) as e:
            implementation_raised(self, "the kernel", e)
        if not isinstance(y, torch.Tensor):
            self.fail(f"the kernel returned {type(y).__name__}, not a torch.Tensor")
        if tuple(y.shape) != tuple(x.shape):
            self.fail(f"the kernel returned shape {tuple(y.shape)} for input shape {tuple(x.shape)}")
        unreadable = unreadable_tensor(y)
        if unreadable:
            self.fail(f"the kernel returned {unreadable} for an input on {x.device}")
        return y

    # ---- inputs ----
    def positions_tensor(self, positions: np.ndarray | None = None) -> torch.Tensor:
        p = self.positions if positions is None else positions
        return torch.tensor(np.asarray(p, dtype=np.int64), device=self.device)

    def make_x(self, seed: int | None = None, lead: tuple[int, ...] | None = None, seq: int | None = None) -> torch.Tensor:
        """Standard-normal values drawn in float32 and rounded to the dtype."""
        rng = np.random.default_rng(self.ex.seed if seed is None else seed)
        shape = (*(self.ex.lead if lead is None else lead), len(self.ex.positions) if seq is None else seq,
                 self.cfg.head_dim)
        x = torch.from_numpy(rng.standard_normal(shape, dtype=np.float32))
        return x.to(self.dtype).to(self.device)

    # ---- the specification ----
    def reference(self, x: torch.Tensor, positions: np.ndarray) -> np.ndarray:
        return reference.apply(to_f64(x), positions, rotary_dim=self.cfg.rotary_dim, base=self.cfg.base,
                               layout=self.layout)

    def pair_norms(self, v) -> np.ndarray:
        return reference.pair_norms(to_f64(v), rotary_dim=self.cfg.rotary_dim, layout=self.layout)

    def allowed(self, x, positions: np.ndarray, *, include_phase: bool = True) -> np.ndarray:
        """Per-pair allowance for rotating x at positions, shape x.shape[:-1] + (npairs,)."""
        allowance = tolerance.rope_allowance(positions, self.inv_freq, self.ex.dtype)
        return allowance.allowed(self.pair_norms(x), include_phase=include_phase)

    def expect_reference(self, y: torch.Tensor, x: torch.Tensor, positions: np.ndarray, what: str) -> None:
        """Every rotated pair of y within the allowance of ref(x, positions)."""
        err = self.pair_norms(to_f64(y) - self.reference(x, positions))
        self.measure(err, self.allowed(x, positions), what, positions)

    def measure(self, observed: np.ndarray, allowed: np.ndarray, what: str, positions: np.ndarray,
                *, per_row: bool = False) -> None:
        """Compare errors per pair ([..., seq, npairs]) or, with per_row, per row ([..., seq])."""
        measure(self.check_id, self.ex, observed, allowed, what,
                lambda idx: self.locate(idx + (None,) if per_row else idx, positions))

    def locate(self, idx: tuple, positions: np.ndarray) -> str:
        """Index [..rows, seq, pair] of an error array, in words (pair None for per-row errors)."""
        *rows, s, i = idx
        where = f"row {tuple(int(r) for r in rows)}, " if rows else ""
        pair = f", pair {i} (w_i={self.inv_freq[i]:.6g})" if i is not None else ""
        return f"{where}sequence index {s} (position {int(positions[s])}){pair}"


def unreadable_tensor(y: torch.Tensor) -> str | None:
    """What is wrong with an output whose values cannot be read at all (no clause can judge it)."""
    if y.device.type == "meta":
        return "a tensor on the meta device (shapes only, no values)"
    if y.layout != torch.strided:
        return f"a {y.layout} tensor, not a dense (strided) one"
    return None


def bitwise_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal bit patterns (so NaN == NaN): what 'the same output' means for determinism."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    as_int = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
    return torch.equal(a.contiguous().view(as_int), b.contiguous().view(as_int))


def difference(a, b) -> np.ndarray:
    """a - b in float64 for comparing two outputs of the kernel: where both hold the same NaN or
    infinity the difference is 0 (a NaN output is rope.reference's failure, not a disagreement)."""
    a, b = to_f64(a), to_f64(b)
    same_nonfinite = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    with np.errstate(invalid="ignore"):
        return np.where(same_nonfinite, 0.0, a - b)


def to_f64(v) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        return v.detach().to("cpu", torch.float64).numpy()
    return np.asarray(v, dtype=np.float64)
