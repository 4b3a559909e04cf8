"""How a property test is declared, run and reported (uniform failure messages).

A property is a check function registered under a check id (its clause ID, or CLAUSE#variant).
``property_test`` turns it into a pytest test (clause marker, one test per dtype, hypothesis
drawing the example) and keeps it in CHECKS so ``pe-spec repro`` can replay one example.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from pe_spec import clauses, limits, outcomes
from pe_spec.contract import Implementation, Unsupported
from pe_spec.outcomes import ClauseViolation

DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class Example:
    """One drawn example, JSON-serialisable so a failure can be replayed from one command line.

    x is regenerated from ``seed`` (many vectors per example at no drawing cost); ``extra``
    holds what a particular check draws beyond the common fields (a shift, a second seed, ...).
    """

    config: dict
    dtype: str
    lead: tuple[int, ...]
    positions: tuple[int, ...]
    seed: int
    device: str = "cpu"
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Example":
        d = json.loads(text)
        d["lead"], d["positions"] = tuple(d["lead"]), tuple(d["positions"])
        return cls(**d)

    def describe(self) -> str:
        cfg = " ".join(f"{k}={v}" for k, v in self.config.items())
        pos = list(self.positions)
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        if "head_dim" in self.config:   # an input tensor x
            shape = f"x.shape={[*self.lead, len(self.positions), self.config['head_dim']]}"
        else:                           # a table of rows
            shape = f"table.shape={[len(self.positions), self.config.get('dim')]}"
        return f"config({cfg}) dtype={self.dtype} device={self.device} {shape} positions={pos}{extra}"


@dataclass(frozen=True)
class Check:
    check_id: str
    clause_id: str
    fn: Callable[[Any], None]
    case_type: type


CHECKS: dict[str, Check] = {}


def reproduce_command(check_id: str, ex: Example) -> str:
    target = outcomes.TARGET or "<target>"
    t = limits.call_timeout()
    limit = "" if t == limits.DEFAULT_CALL_TIMEOUT else f" --call-timeout {t or 0:g}"
    return f"pe-spec repro {shlex.quote(target)} {check_id} {shlex.quote(ex.to_json())}{limit}"


def fail(check_id: str, ex: Example, what: str, *, observed: float | None = None,
         allowed: float | None = None, where: str = "") -> None:
    """Raise the uniform failure report for check_id on example ex."""
    raise ClauseViolation(check_id.split("#", 1)[0],
                          failure_text(check_id, ex, what, observed=observed, allowed=allowed, where=where))


def failure_text(check_id: str, ex: Example, what: str, *, observed: float | None = None,
                 allowed: float | None = None, where: str = "") -> str:
    """The uniform failure report: clause and statement, what went wrong, counterexample, reproduce."""
    clause_id = check_id.split("#", 1)[0]
    c = clauses.get(clause_id)
    lines = [f"[{clause_id}] {c.level}: {c.statement}", f"  {what}"]
    if observed is not None and allowed is not None:
        ratio = observed / allowed if allowed > 0 else float("inf")
        lines.append(f"  observed error {observed:.3g} > allowed {allowed:.3g} (ratio {ratio:.3g})"
                     + (f" at {where}" if where else ""))
    elif where:
        lines.append(f"  at {where}")
    lines.append(f"  counterexample: {ex.describe()}")
    lines.append(f"  reproduce: {reproduce_command(check_id, ex)}")
    return "\n".join(lines)


def measure(check_id: str, ex: Example, observed: np.ndarray, allowed: np.ndarray, what: str,
            locate: Callable[[tuple], str]) -> None:
    """Compare an array of observed errors with its allowance; record the worst ratio; fail if > 1."""
    observed = np.asarray(observed, dtype=np.float64)
    allowed = np.broadcast_to(np.asarray(allowed, dtype=np.float64), observed.shape)
    if observed.size == 0:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(allowed > 0, observed / allowed, np.where(observed > 0, np.inf, 0.0))
    ratio = np.where(np.isnan(observed), np.inf, ratio)
    idx = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    worst = float(ratio[idx])
    outcomes.record_ratio(worst, locate(idx))
    if worst > 1.0:
        fail(check_id, ex, what, observed=float(observed[idx]), allowed=float(allowed[idx]), where=locate(idx))


def implementation_raised(case: "Case", who: str, e: BaseException) -> None:
    """Fail case's clause because the implementation (who: 'the kernel', 'the factory') raised e.

    An allocation failure with the check process near its memory limit means the implementation
    holds on to what it allocated: limits.OutOfMemory ends the test without shrinking and the
    remaining tests are not run (pe-spec keeps a reserve to finish and report)."""
    what = f"{who} raised {exception_text(e)}"
    if limits.allocation_failure(e) and limits.near_memory_limit():
        limits.ran_out_of_memory()
        raise limits.OutOfMemory(failure_text(case.check_id, case.ex, what + "; the check process had used up "
                                              "its memory limit, so the remaining checks are not run"))
    case.fail(what)


def exception_text(e: BaseException) -> str:
    """An exception from the implementation, for a failure message: its type and its message on
    one line, shortened if long; an allocation failure says how much memory the check may use."""
    text = " ".join(str(e).split())
    text = text if len(text) <= 500 else text[:497] + "..."
    out = f"{type(e).__name__}: {text}" if text else type(e).__name__
    if (isinstance(e, MemoryError) or "allocate memory" in text) and limits.memory_limit:
        out += f" (the check process may use {limits.memory_limit / 2**30:.3g} GiB of memory: --memory-limit)"
    return out


def property_test(check_id: str, case_type: type, *, examples: Callable[[Implementation, str], Any],
                  dtypes: tuple[str, ...] = DTYPES,
                  applies: Callable[[Implementation], str | None] | None = None,
                  max_examples: int | None = None):
    """Declare a property check; returns the pytest test that runs it under hypothesis.

    ``applies(impl)`` returns a reason when the clause does not apply to this kernel (it is then
    reported as not applicable, never as passed). ``max_examples`` caps the profile's count for
    checks whose every example is expensive (compilation).
    """
    clause_id = check_id.split("#", 1)[0]
    clauses.get(clause_id)  # fail at import time on a typo

    def decorate(check: Callable[[Any], None]):
        if check_id in CHECKS:
            raise ValueError(f"check id {check_id!r} declared twice")
        CHECKS[check_id] = Check(check_id, clause_id, check, case_type)

        @pytest.mark.clause(clause_id)
        @pytest.mark.pe_family(case_type.family)
        @pytest.mark.parametrize("dtype", dtypes)
        @given(data=st.data())
        def test(pe_impl: Implementation, dtype: str, data) -> None:
            require_dtype(pe_impl, dtype)
            reason = applies(pe_impl) if applies else None
            if reason:
                pytest.skip(reason)
            ex = data.draw(examples(pe_impl, dtype), label="example")
            run_check(check_id, pe_impl, ex)

        if max_examples is not None:
            test = settings(max_examples=min(max_examples, settings.default.max_examples))(test)
        test.__name__ = check.__name__
        test.__qualname__ = check.__name__
        test.__doc__ = check.__doc__
        test.__module__ = check.__module__
        test.check_id = check_id  # type: ignore[attr-defined]
        return test

    return decorate


# impl.environment calls a freshly built kernel twice, the second time at the drawn positions.
# The first call is a prefill at positions 0..max(drawn), so that a kernel caching what its first
# call computed serves every drawn position from that cache; when max(drawn) + 1 exceeds this,
# the first call is at the drawn positions themselves (a cache that grows with the positions seen
# then serves the second call; a longer prefill would only cost time).
ENVIRONMENT_PREFILL = 512


def environment_calls(positions: np.ndarray) -> tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]]:
    """(label, positions) of impl.environment's two calls: 0..max(positions) if that is at most
    ENVIRONMENT_PREFILL long (else the positions themselves), then the positions."""
    positions = np.asarray(positions, dtype=np.int64)
    n = int(np.max(positions)) + 1
    first = np.arange(n, dtype=np.int64) if n <= ENVIRONMENT_PREFILL else positions
    label = ("the first call (at the drawn positions)" if np.array_equal(first, positions)
             else f"the first call (a prefill at positions 0..{n - 1})")
    return (label, first), ("the second call (at the drawn positions)", positions)


def built_under_bf16_default(case: "Case") -> Callable:
    """A fresh build of the kernel made under torch.set_default_dtype(torch.bfloat16)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        return case.build(fresh=True)
    finally:
        torch.set_default_dtype(previous)


def require_dtype(impl: Implementation, dtype: str) -> None:
    declared = impl.get("dtypes")
    if declared is not None and dtype not in declared:
        pytest.skip(f"not applicable: {impl.name} does not declare dtype {dtype}")


def run_check(check_id: str, impl: Implementation, ex: Example) -> None:
    check = CHECKS[check_id]
    reason = limits.exhausted()   # time or memory limits used up by earlier tests: not run
    if reason:
        pytest.skip(reason)
    if limits.connected():  # under pe-spec check: what to report should this example crash the process
        limits.send({"ev": "example", "check": check_id, "describe": ex.describe(),
                     "reproduce": reproduce_command(check_id, ex)})
    case = check.case_type(impl, ex, check_id)
    try:
        try:
            case.fn  # build (cached per config) before the check, so Unsupported is not a failure
        except Unsupported:
            outcomes.record_unsupported()
            reject()
        outcomes.record_example()
        check.fn(case)
    except limits.CallTimeout as e:
        # Not a ClauseViolation (an Exception), so hypothesis does not replay the hang to shrink it.
        limits.reset()
        e.report = failure_text(check_id, ex, e.summary)
        raise


class Case:
    """One drawn example bound to the implementation under test; families subclass it with their
    reference and tolerance helpers. ``config_type`` builds the family's Config from the example."""

    family = ""
    config_type: type = dict

    def __init__(self, impl: Implementation, ex: Example, check_id: str) -> None:
        self.impl, self.ex, self.check_id = impl, ex, check_id
        self.cfg = self.config_type(**ex.config)

    @cached_property
    def fn(self) -> Callable:
        return self.build()

    def build(self, *, fresh: bool = False) -> Callable:
        """The function under test (cached per config unless fresh); a raising factory fails the clause."""
        try:
            with limits.implementation_call("factory"):
                return self.impl.factory(self.cfg) if fresh else self.impl.build(self.cfg)
        except Unsupported:
            raise
        except (Exception, SystemExit) as e:
            implementation_raised(self, "the factory", e)

    @property
    def positions(self) -> np.ndarray:
        return np.asarray(self.ex.positions, dtype=np.int64)

    def fail(self, what: str, **kw) -> None:
        fail(self.check_id, self.ex, what, **kw)
