"""Bounded shrinking: a budget per clause, shared by its dtypes' tests, so a nonconformant verdict
costs about what a conformant one does.

Two bounds, whichever runs out first ends the shrinking of a failure (hypothesis then reports the
smallest failing example found so far, and the engine marks it as not fully shrunk):

- **examples**: how many examples the clause may run after its tests' first failures. This is
  the bound that normally applies, and it is deterministic: the same seed shrinks to the same
  counterexample on any machine, so ci verdicts, reports and `pe-spec repro` lines reproduce.
- **seconds**: a wall-clock cap, for kernels so slow that the example budget would take minutes
  (a kernel under Triton's interpreter, one recompiled on every call); where it ends shrinking,
  the counterexample depends on the machine's speed, and the report says so.

How: hypothesis stops shrinking once ``time.perf_counter()`` in its engine passes a deadline set
``MAX_SHRINKING_SECONDS`` after shrinking starts. During one test the engine module's clock is a
``ShrinkClock`` whose perf_counter counts examples run, and ``MAX_SHRINKING_SECONDS`` is the
clause's remaining example budget; hitting the wall-clock cap moves that clock past any deadline.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

# What hypothesis reports when its shrink deadline stopped the shrinker.
STOPPED = "stopped because it is making very slow progress"


class ShrinkBudget:
    """What one clause may still spend shrinking its failures (shared by its dtypes' tests)."""

    def __init__(self, examples: int, seconds: float) -> None:
        self.examples, self.seconds = int(examples), float(seconds)


class ShrinkClock:
    """One test's failures and the clock hypothesis's engine reads: perf_counter counts the
    examples run; monotonic is the real one (hypothesis uses it for other timing)."""

    monotonic = staticmethod(time.monotonic)

    def __init__(self, budget: ShrinkBudget) -> None:
        self.budget = budget
        self.examples = 0
        self.first_failure: tuple[int, float] | None = None   # (examples, real time) when it failed
        self.last: BaseException | None = None
        self.hit_time_cap = False

    def perf_counter(self) -> float:
        return float(self.examples)

    def example(self) -> None:
        """Count one example; past the wall-clock cap, jump beyond any shrink deadline."""
        self.examples += 1
        if self.first_failure is not None and not self.hit_time_cap \
                and time.monotonic() - self.first_failure[1] >= self.budget.seconds:
            self.hit_time_cap = True
            self.examples += 2**40

    def failed(self, e: BaseException) -> None:
        if self.first_failure is None:
            self.first_failure = (self.examples, time.monotonic())
        self.last = e

    def spend(self) -> tuple[int, float]:
        """Charge the clause's budget with what shrinking used: (examples, seconds)."""
        if self.first_failure is None:
            return 0, 0.0
        used = min(self.examples - self.first_failure[0], self.budget.examples)
        seconds = time.monotonic() - self.first_failure[1]
        self.budget.examples = max(0, self.budget.examples - used)
        self.budget.seconds = max(0.0, self.budget.seconds - seconds)
        return used, seconds

    def stopped_note(self, used: int, seconds: float) -> str:
        """Why shrinking stopped before its end, for the failure message."""
        if self.hit_time_cap:
            return (f"shrinking stopped after {seconds:.1f} s, this clause's shrink time cap (--shrink-seconds); "
                    "which example it reached depends on the machine's speed")
        return f"shrinking stopped after {used} examples, this clause's shrink budget (--shrink-examples)"


@contextmanager
def bounded(clock: ShrinkClock):
    """Within: hypothesis's engine reads clock, and stops shrinking after the clause's remaining
    example budget."""
    from hypothesis.internal.conjecture import engine as conjecture

    saved = conjecture.MAX_SHRINKING_SECONDS, conjecture.time
    conjecture.MAX_SHRINKING_SECONDS, conjecture.time = clock.budget.examples, clock
    try:
        yield
    finally:
        conjecture.MAX_SHRINKING_SECONDS, conjecture.time = saved
