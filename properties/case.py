"""Case: one drawn example bound to the implementation under test (the family-neutral protocol).

Each family's property package subclasses it (``CASE``) with its inputs, its reference and its
tolerance helpers; the universal checks (properties/test_universal.py) are written once against
the methods below, so they run, with the same meaning, for every family.

A call takes ``args``, the tuple of tensors the function under test receives (for an input tensor
x and positions: ``(x, positions)``; for a table: ``(positions,)``), named by ``INPUTS``.
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import torch

from pe_spec.spec import regimes as regime_spec
from pe_spec.spec.contract import Implementation, Unsupported

from . import engine, limits
from .engine import Example
from .outcomes import ClauseViolation
from .tensors import bitwise_equal, unreadable_tensor

Args = tuple


class Case:
    family = ""
    config_type: type = dict
    INPUTS: tuple[str, ...] = ()          # names of the tensors in args, for messages
    PRESCRIBED = "the prescribed"         # where the output's dtype comes from, for messages
    LAYOUTS: tuple[str, ...] = ()         # non-contiguous views impl.stride-invariance draws

    def __init__(self, impl: Implementation, ex: Example, check_id: str) -> None:
        self.impl, self.ex, self.check_id = impl, ex, check_id
        self.cfg = self.config_type(**ex.config)

    # ---- what the family provides ----
    @classmethod
    def describe(cls, ex: Example) -> str:
        """The example in words: configuration, dtype, device, shapes, positions."""
        raise NotImplementedError

    @classmethod
    def environments(cls, dtype: str) -> list[str]:
        """The ambient settings impl.environment draws for this dtype (pe_properties.ambient)."""
        raise NotImplementedError

    def shape_regimes(self) -> set[str]:
        """The regimes the example's shapes reach (wide heads, many heads, ...): the family's to say."""
        return set()

    def regimes(self) -> set[str]:
        """Every input regime (pe_spec.spec.regimes) this example reaches, for the report."""
        ex = self.ex
        out = self.shape_regimes()
        if ex.dtype == "float64":
            out.add("float64")
        if ex.inputs.get("magnitude"):
            out.add(f"magnitude-{ex.inputs['magnitude']}")
        if ex.inputs.get("storage") == "large":
            out.add("large-storage")
        if ex.extra.get("layout") in regime_spec.BY_NAME:
            out.add(ex.extra["layout"])
        if ex.extra.get("environment") == "default-dtype-bf16":
            out.add("default-dtype-call")
        if ex.extra.get("process") == "fresh":
            out.add("fresh-process")
        if any(p < 0 for p in ex.extra.get("below", ())):
            out.add("negative-positions")
        return out

    def make_inputs(self, *, positions: np.ndarray | None = None, seed: int | None = None,
                    lead: tuple[int, ...] | None = None) -> Args:
        """Fresh inputs for the example (or for other positions, another seed, other leading dims)."""
        raise NotImplementedError

    def expected_output(self, args: Args) -> tuple[tuple[int, ...], torch.dtype, torch.device]:
        """The shape, dtype and device the contract prescribes for the output of a call on args."""
        raise NotImplementedError

    def shape_expected(self, args: Args) -> str:
        """Why the output should have the prescribed shape, for a failure message."""
        return f"where the contract prescribes {tuple(self.expected_output(args)[0])}"

    def positions_of(self, args: Args) -> np.ndarray:
        raise NotImplementedError

    def expect_reference(self, y: torch.Tensor, args: Args, what: str) -> None:
        """Fail unless y is within the tolerance model of the reference for args."""
        raise NotImplementedError

    def expect_agree(self, a: torch.Tensor, b: torch.Tensor, args: Args, what: str, *, factor: float = 2.0) -> None:
        """Fail unless two outputs of the kernel for args agree within factor x the allowance without
        its phase term (both are correct up to the allowance; they share positions, hence angles)."""
        raise NotImplementedError

    def rows(self, args: Args) -> int:
        """How many independent rows a call on args has (impl.batch-independence)."""
        raise NotImplementedError

    def take_rows(self, args: Args, index: np.ndarray) -> Args:
        """The inputs of the rows in index, as a call of their own."""
        raise NotImplementedError

    def output_rows(self, y: torch.Tensor, index: np.ndarray, args: Args) -> torch.Tensor:
        """The rows in index of an output for args, shaped as the output of take_rows(args, index)."""
        raise NotImplementedError

    def non_contiguous(self, kind: str) -> Args:
        """Inputs with the example's values in a non-contiguous layout (one of LAYOUTS)."""
        raise NotImplementedError

    def aliasing_calls(self) -> list[tuple[str, Args]]:
        """(label, args) of the calls impl.no-aliasing makes."""
        return [("at the drawn positions", self.make_inputs())]

    def on_device(self, device: str, args: Args) -> tuple[Callable, Args]:
        """The function under test and args for a call on device."""
        raise NotImplementedError

    def counterpart(self) -> Implementation:
        """The declared counterpart (device.counterpart), loaded; a bad one fails the clause."""
        raise NotImplementedError

    def expect_counterpart(self, y: torch.Tensor, y_other: torch.Tensor, args: Args, what: str) -> None:
        """Fail unless the kernel's and its counterpart's outputs for args agree within the
        arithmetic allowance (they share the angles)."""
        raise NotImplementedError

    # ---- building and calling the kernel ----
    @cached_property
    def fn(self) -> Callable:
        return self.build()

    def build(self, *, fresh: bool = False, cfg=None) -> Callable:
        """The function under test (cached per config unless fresh); a raising factory fails the clause."""
        cfg = self.cfg if cfg is None else cfg
        try:
            with limits.implementation_call("factory"):
                return self.impl.factory(cfg) if fresh or cfg is not self.cfg else self.impl.build(cfg)
        except Unsupported:
            raise
        except (Exception, SystemExit) as e:
            self.raised("the factory", e)

    def invoke(self, args: Args, fn: Callable | None = None, *, restore: bool = True, what: str = "kernel"):
        """Call the kernel and return whatever it returns; its exceptions propagate.

        A kernel that writes into its inputs is impl.no-mutation's business alone: with ``restore``
        the inputs are put back (after copying an output that may alias them), so every other clause
        judges the output against the inputs it was given.
        """
        before = [a.detach().clone() for a in args] if restore else None
        with limits.implementation_call(what):   # what: the kind of call, whose time limit it gets
            y = (fn or self.fn)(*args)
        if before is not None:
            changed = [(a, b) for a, b in zip(args, before) if not bitwise_equal(a.detach(), b)]
            if changed:
                if isinstance(y, torch.Tensor):
                    y = y.clone()
                with torch.no_grad():
                    for a, b in changed:
                        a.copy_(b)
        return y

    def call(self, args: Args, fn: Callable | None = None, *, restore: bool = True) -> torch.Tensor:
        """invoke(), where raising or returning anything but a tensor of the prescribed shape is a
        failure of the clause at hand."""
        try:
            y = self.invoke(args, fn, restore=restore)
        except Unsupported:
            raise
        except (Exception, SystemExit) as e:
            self.raised("the kernel", e)
        if not isinstance(y, torch.Tensor):
            self.fail(f"the kernel returned {type(y).__name__}, not a torch.Tensor")
        shape = self.expected_output(args)[0]
        if tuple(y.shape) != tuple(shape):
            self.fail(f"the kernel returned shape {tuple(y.shape)} {self.shape_expected(args)}")
        unreadable = unreadable_tensor(y)
        if unreadable:
            self.fail(f"the kernel returned {unreadable} for an input on {args[0].device}")
        return y

    # ---- failing ----
    @property
    def positions(self) -> np.ndarray:
        return np.asarray(self.ex.positions, dtype=np.int64)

    def fail(self, what: str, **kw) -> None:
        raise ClauseViolation(self.check_id.split("#", 1)[0],
                              engine.failure_text(self.check_id, self.impl, self.ex, what, **kw),
                              engine.failure_fields(self.check_id, self.ex, what, **kw))

    def raised(self, who: str, e: BaseException) -> None:
        """Fail the clause because the implementation (who: 'the kernel', 'the factory') raised e.

        An allocation failure with the check process near its memory limit means the implementation
        holds on to what it allocated: limits.OutOfMemory ends the test without shrinking and the
        remaining tests are not run (pe-spec keeps a reserve to finish and report)."""
        what = f"{who} raised {exception_text(e)}{self.dtype_hint(e)}{self.cache_hint(who, e)}"
        if limits.allocation_failure(e) and limits.near_memory_limit():
            limits.ran_out_of_memory()
            raise limits.OutOfMemory(engine.failure_text(
                self.check_id, self.impl, self.ex, what + "; the check process had used up its memory limit, so "
                "the remaining checks are not run"))
        self.fail(what)

    def dtype_hint(self, e: BaseException) -> str:
        """For an error that names the example's dtype, from a kernel that did not declare its dtypes:
        the declaration to add if it does not support that dtype (a bare failure would not say)."""
        if self.impl.get("dtypes") is not None or not _names_dtype(str(e), self.ex.dtype):
            return ""
        others = ", ".join(repr(d) for d in engine.DTYPES if d != self.ex.dtype)
        return (f"; if {self.impl.name} does not support {self.ex.dtype}, declare the dtypes it does "
                f"support (dtypes=({others})) and {self.ex.dtype} is not drawn")

    def cache_hint(self, who: str, e: BaseException) -> str:
        """For a factory that could not allocate: the declaration that bounds the cache it builds
        (max_position, a declaration every family shares)."""
        if who != "the factory" or not limits.allocation_failure(e):
            return ""
        m = self.ex.config.get("max_position")
        if m is None:
            return ""
        declared = self.impl.get("max_position")
        if declared is None:
            return (f"; if it builds a cache for max_position={m} positions, declare the largest max_position "
                    f"it can build and no larger one is drawn")
        return f"; it declares max_position={declared}: declare the largest cache it can build"

    def measure(self, observed: np.ndarray, allowed: np.ndarray, what: str, locate: Callable[[tuple], str]) -> None:
        engine.measure(self, observed, allowed, what, locate)


_DTYPE_WORDS = {"float64": ("float64", "double", "f64"), "float32": ("float32", "f32"),
                "bfloat16": ("bfloat16", "bf16"), "float16": ("half", "fp16", "f16")}


def _names_dtype(text: str, dtype: str) -> bool:
    import re

    text = text.lower()
    return any(w in text for w in _DTYPE_WORDS[dtype]) or (
        dtype == "float16" and re.search(r"(?<!b)float16", text) is not None)


def exception_text(e: BaseException) -> str:
    """An exception from the implementation, for a failure message: its type and its message on
    one line, shortened if long; an allocation failure says how much memory the check may use."""
    text = " ".join(str(e).split())
    text = text if len(text) <= 500 else text[:497] + "..."
    out = f"{type(e).__name__}: {text}" if text else type(e).__name__
    if (isinstance(e, MemoryError) or "allocate memory" in text) and limits.memory_limit:
        out += f" (the check process may use {limits.memory_limit / 2**30:.3g} GiB of memory: --memory-limit)"
    return out


def describe_shape(name: str, shape: Sequence[int]) -> str:
    return f"{name}.shape={list(shape)}"
