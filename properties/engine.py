"""The clause engine: runs property checks in this process and returns their results.

A property is a check function registered under a check id (its clause ID, or CLAUSE#variant)
with ``property_test``, which also makes it a pytest test (clause marker, one test per dtype).
Every route runs it through ``run_test`` here: the pytest plugin, the ``pe-spec check`` process
(pe_spec.harness.runner), ``pe-spec repro`` (``run_check``, one example) and pe-spec's own tests.
So a check draws the same examples, and gives the same status, counts and ratios, whichever way
it is run:

- **Seeds** come from the check itself, never from pytest's node id or the test's source:
  ``seed_for(base, check_id, dtype)``, with ``base`` fixed for the ``ci`` profile and drawn once
  per run (and reported, so ``--seed`` replays it) for ``dev`` and ``thorough``.
- **Shrinking is bounded** per clause, shared by its dtypes (pe_properties.shrinking): a budget
  of examples (deterministic) and a wall-clock cap; once one is spent, the smallest failing example
  found so far is reported, marked as not fully shrunk, so a nonconformant verdict costs about
  what a conformant one does.
"""
from __future__ import annotations

import hashlib
import json
import shlex
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Iterable

import numpy as np

from pe_spec.spec import clauses, registry
from pe_spec.spec.contract import Implementation, Unsupported

from . import limits, outcomes
from .outcomes import ClauseViolation, Skip
from .shrinking import ShrinkBudget, ShrinkClock, bounded
from .shrinking import STOPPED as _SHRINK_STOPPED

DTYPES = ("float32", "bfloat16", "float16", "float64")
# float64 tests run at most this many examples: a kernel goes wrong in float64 by taking another
# code path (a fallback written and tested apart), wrong on every input it gets, not only on rare
# ones, and the input regimes are reached in the other three dtypes; a fourth dtype at full count
# would cost a third more check time (docs/performance.md).
FLOAT64_EXAMPLES = 10


@dataclass(frozen=True)
class Example:
    """One drawn example, JSON-serialisable so a failure can be replayed from one command line.

    x is regenerated from ``seed`` (many vectors per example at no drawing cost); ``extra``
    holds what a particular check draws beyond the common fields (a shift, a second seed, ...);
    ``inputs`` how every input of the example is made beyond its shape (its magnitude, its
    storage: pe_spec.spec.regimes), for every check alike.
    """

    config: dict
    dtype: str
    lead: tuple[int, ...]
    positions: tuple[int, ...]
    seed: int
    device: str = "cpu"
    extra: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Example":
        d = json.loads(text)
        if not isinstance(d, dict):
            raise ValueError("the example must be a JSON object")
        missing = {"config", "dtype", "lead", "positions", "seed"} - set(d)
        if missing:
            raise ValueError(f"the example lacks {', '.join(sorted(missing))}")
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"the example has unknown fields {', '.join(sorted(unknown))}")
        if d["dtype"] not in DTYPES:
            raise ValueError(f"dtype {d['dtype']!r} is not one of {', '.join(DTYPES)}")
        ints = lambda v: isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in v)
        for name in ("lead", "positions"):
            if not ints(d[name]):
                raise ValueError(f"{name} must be a list of integers, got {d[name]!r}")
        if any(i < 0 for i in d["lead"]):
            raise ValueError(f"lead must hold sizes, got {d['lead']!r}")
        if not isinstance(d["seed"], int) or isinstance(d["seed"], bool):
            raise ValueError(f"seed must be an integer, got {d['seed']!r}")
        for name in ("config", "extra", "inputs"):
            if not isinstance(d.get(name, {}), dict):
                raise ValueError(f"{name} must be a JSON object, got {d[name]!r}")
        d["lead"], d["positions"] = tuple(d["lead"]), tuple(d["positions"])
        return cls(**d)


@dataclass(frozen=True)
class Check:
    check_id: str
    clause_id: str
    fn: Callable[[Any], None]
    family: str | None                                  # None: a universal check, for every family
    examples: Callable[[Implementation, str], Any]      # (impl, dtype) -> strategy of Examples
    dtypes: tuple[str, ...] = DTYPES
    applies: Callable[[Implementation], str | None] | None = None
    max_examples: int | None = None


CHECKS: dict[str, Check] = {}


@dataclass
class TestResult:
    """The outcome of one check in one dtype: what every report, table and renderer reads."""

    nodeid: str                  # check_id[dtype]
    clause_id: str
    dtype: str | None
    status: str                  # pass | fail | skip | error
    message: str = ""
    worst_ratio: float | None = None
    worst_at: str = ""
    examples: int = 0
    unsupported_configs: int = 0
    regimes: dict[str, int] = field(default_factory=dict)   # regime -> examples that reached it
    duration_s: float = 0.0
    shrunk: bool | None = None   # for a failure: whether its counterexample is minimal
    notes: list[str] = field(default_factory=list)
    not_run: str = ""            # for a skip: why it did not run to the end (memory, hang, time budget)
    failure: dict = field(default_factory=dict)   # for a failure: failure_fields of the example shown

    @property
    def not_applicable(self) -> bool:
        return self.status == "skip" and self.message.startswith(outcomes.NOT_APPLICABLE)


def test_id(check_id: str, dtype: str) -> str:
    return f"{check_id}[{dtype}]"


# ---- declaring checks ----

def property_test(check_id: str, *, family: str | None, examples: Callable[[Implementation, str], Any],
                  dtypes: tuple[str, ...] = DTYPES,
                  applies: Callable[[Implementation], str | None] | None = None,
                  max_examples: int | None = None):
    """Declare a property check; returns the pytest test that runs it through the engine.

    ``family`` is the family whose kernels it checks (None: every family, a universal check);
    ``examples(impl, dtype)`` the hypothesis strategy of its Examples; ``applies(impl)`` a reason
    when the clause does not apply to this kernel (reported as not applicable, never as passed);
    ``max_examples`` caps the profile's count for checks whose every example is expensive.
    """
    import pytest

    clause_id = check_id.split("#", 1)[0]
    clause = clauses.get(clause_id)  # fail at import time on a typo
    if family is not None and not clause.applies(family):
        raise ValueError(f"check {check_id!r} is declared for {family} kernels, but {clause_id} does not apply to them")

    def decorate(fn: Callable[[Any], None]):
        if check_id in CHECKS:
            raise ValueError(f"check id {check_id!r} declared twice")
        CHECKS[check_id] = Check(check_id, clause_id, fn, family, examples, dtypes, applies, max_examples)

        def test(pe_run, dtype: str) -> None:
            pe_run.run(check_id, dtype)

        test = pytest.mark.parametrize("dtype", dtypes)(test)
        test = pytest.mark.clause(clause_id)(test)
        if family is not None:
            test = pytest.mark.pe_family(family)(test)
        test.__name__ = test.__qualname__ = fn.__name__
        test.__doc__, test.__module__ = fn.__doc__, fn.__module__
        test.check_id = check_id  # type: ignore[attr-defined]
        return test

    return decorate


def checks_for(impl: Implementation) -> list[Check]:
    """The checks that apply to impl's family, in report order (registry order of their clauses)."""
    from . import load_checks

    load_checks()
    order = {c.id: n for n, c in enumerate(clauses.applicable(impl.family))}
    mine = [c for c in CHECKS.values() if c.clause_id in order and c.family in (None, impl.family)]
    return sorted(mine, key=lambda c: order[c.clause_id])   # stable: declaration order within a clause


def plan(impl: Implementation, clause_ids: Iterable[str] = ()) -> list[tuple[Check, str]]:
    """(check, dtype) for every test a check of impl runs, in report order; only the given clauses
    if any are given (unknown IDs raise KeyError naming the closest)."""
    wanted = set(clause_ids)
    for cid in wanted:
        clauses.get(cid)
    return [(c, dt) for c in checks_for(impl) if not wanted or c.clause_id in wanted for dt in c.dtypes]


# ---- settings and seeds ----

@dataclass(frozen=True)
class RunSettings:
    """How checks are run: hypothesis settings (a profile), the seed, the shrink budget."""

    hypothesis: Any                 # hypothesis.settings
    profile: str                    # the profile's name
    seed: int | None                # None: the profile's fixed seed (derandomized)
    shrink_examples: int            # examples a clause may run shrinking, shared by its dtypes
    shrink_seconds: float           # and its wall-clock cap (pe_properties.shrinking)

    def shrink_budget(self) -> ShrinkBudget:
        return ShrinkBudget(self.shrink_examples, self.shrink_seconds)

    @property
    def seed_base(self) -> str:
        return self.profile if self.seed is None else str(self.seed)


def seed_for(base: str, check_id: str, dtype: str) -> int:
    """The hypothesis seed of one test: a function of the run's seed base and the test alone."""
    digest = hashlib.sha256(f"pe-spec:{base}:{test_id(check_id, dtype)}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


# ---- running ----

def skip_reason(check: Check, impl: Implementation, dtype: str) -> str | None:
    """Why this test does not run for impl (not applicable or not verified), or None."""
    family = registry.family_of(impl)
    if check.clause_id in family.not_applicable:
        return f"{outcomes.NOT_APPLICABLE} to {family.name} kernels: {family.not_applicable[check.clause_id]}"
    declared = impl.get("dtypes")
    if declared is not None and dtype not in declared:
        return f"{outcomes.NOT_APPLICABLE}: {impl.name} does not declare dtype {dtype}"
    reason = check.applies(impl) if check.applies else None
    return reason or limits.exhausted()


def run_test(check_id: str, impl: Implementation, dtype: str, settings: RunSettings,
             budget: ShrinkBudget | None = None) -> TestResult:
    """Run one check in one dtype under hypothesis; never raises for what the kernel does."""
    check = CHECKS[check_id]
    tid = test_id(check_id, dtype)
    outcomes.begin(tid)
    limits.reset()
    started = time.perf_counter()
    clock = ShrinkClock(budget or settings.shrink_budget())
    _FAILURE.clear()
    status, message, shrunk = _outcome(check, impl, dtype, settings, clock)
    m = outcomes.current()
    failure = dict(_FAILURE[0]) if status == "fail" and _FAILURE else {}
    worst, worst_at = (m.worst_ratio if m.measured else None), m.worst_detail
    if failure.get("ratio") is not None:   # a failure's ratio is the one of the example it shows
        worst, worst_at = failure["ratio"], failure["where"]
    return TestResult(nodeid=tid, clause_id=check.clause_id, dtype=dtype, status=status, message=message,
                      worst_ratio=worst, worst_at=worst_at, failure=failure,
                      examples=m.examples, unsupported_configs=m.unsupported_configs, regimes=dict(m.regimes),
                      duration_s=round(time.perf_counter() - started, 3),
                      shrunk=shrunk if status == "fail" else None, notes=list(m.notes),
                      not_run=limits.not_run_kind(message) if status == "skip" else "")


def _outcome(check: Check, impl: Implementation, dtype: str, settings: RunSettings,
             clock: ShrinkClock) -> tuple[str, str, bool | None]:
    from hypothesis import Phase, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable
    from hypothesis.reporting import with_reporter

    reason = skip_reason(check, impl, dtype)
    if reason:
        return "skip", reason, None
    strategy = check.examples(impl, dtype)

    def body(data) -> None:
        clock.example()
        ex = data.draw(strategy, label="example")
        try:
            run_check(check.check_id, impl, ex)
        except (ClauseViolation, limits.CallTimeout, limits.OutOfMemory) as e:
            clock.failed(e)
            # Without the frames below: they hold the example's tensors (a large-storage view keeps
            # its whole buffer alive), and hypothesis keeps the failures it meets while shrinking,
            # so a failing kernel would run out of memory and turn its failure into a flaky error.
            e.__context__ = None
            raise e.with_traceback(None) from None

    parent = settings.hypothesis
    cap = min(check.max_examples, parent.max_examples) if check.max_examples else parent.max_examples
    if dtype == "float64":
        cap = min(cap, FLOAT64_EXAMPLES)
    test = hsettings(parent, max_examples=cap, database=None, report_multiple_bugs=False,
                     phases=[p for p in parent.phases if p != Phase.explain])(given(data=st.data())(body))
    test._hypothesis_internal_use_seed = seed_for(settings.seed_base, check.check_id, dtype)
    said: list[str] = []
    try:
        try:
            with bounded(clock), with_reporter(said.append):
                test()
        finally:
            used, seconds = clock.spend()
    except ClauseViolation as e:
        _FAILURE[:] = [e.fields]
        if any(_SHRINK_STOPPED in text for text in said):
            return "fail", (f"{e}\n  (not fully shrunk: {clock.stopped_note(used, seconds)}; this is the smallest "
                            "failing example found by then)"), False
        return "fail", str(e), True
    except (limits.CallTimeout, limits.OutOfMemory) as e:   # never shrunk: that would repeat the hang
        return "fail", str(e), False
    except Skip as s:
        if isinstance(clock.last, ClauseViolation):   # a failure found before the check could go on
            _FAILURE[:] = [clock.last.fields]
            return "fail", (f"{clock.last}\n  (not fully shrunk: while shrinking, a smaller example could not "
                            f"be checked: {s.reason})"), False
        return "skip", s.reason, None
    except Unsatisfiable as e:
        m = outcomes.current()
        if m.unsupported_configs:
            n, total = m.unsupported_configs, m.unsupported_configs + m.examples
            which = "every configuration drawn" if not m.examples else f"{n} of {total} configurations drawn"
            family = registry.family_of(impl)
            spaces = [d for d in family.declarations if d not in ("name", "compile", family.required)]
            return "error", (f"the factory raised Unsupported for {which}, too few to check anything; declare what "
                             f"the kernel supports ({', '.join(spaces)}) so that only those are drawn"), None
        return "error", f"Unsatisfiable: {' '.join(str(e).split())}", None
    except Exception as e:
        text = " ".join(str(e).split())
        return "error", f"{type(e).__name__}: {text if len(text) <= 2000 else text[:1997] + '...'}", None
    return "pass", "", None


_FAILURE: list[dict] = []   # the structured failure of the test being run (set by _outcome)


def run(impl: Implementation, settings: RunSettings, clause_ids: Iterable[str] = (), *,
        on_start: Callable[[str, Check, str], None] | None = None,
        on_result: Callable[[TestResult], None] | None = None) -> list[TestResult]:
    """Every test of impl (or of the given clauses), in report order."""
    results, budgets = [], {}
    for check, dtype in plan(impl, clause_ids):
        if on_start:
            on_start(test_id(check.check_id, dtype), check, dtype)
        budget = budgets.setdefault(check.clause_id, settings.shrink_budget())
        result = run_test(check.check_id, impl, dtype, settings, budget)
        results.append(result)
        if on_result:
            on_result(result)
    return results


# ---- one example ----

def run_check(check_id: str, impl: Implementation, ex: Example) -> None:
    """Check one example; raises ClauseViolation (or CallTimeout, OutOfMemory, Skip)."""
    from hypothesis import reject

    check = CHECKS[check_id]
    reason = limits.exhausted()   # time or memory limits used up by earlier tests: not run
    if reason:
        raise Skip(reason)
    if limits.connected():  # under pe-spec check: what to report should this example crash the process
        limits.send({"ev": "example", "check": check_id, "describe": describe(impl, ex),
                     "reproduce": reproduce_command(check_id, ex)})
    case = case_type(impl)(impl, ex, check_id)
    try:
        try:
            case.fn  # build (cached per config) before the check, so Unsupported is not a failure
        except Unsupported:
            outcomes.record_unsupported()
            reject()
        outcomes.record_example(case.regimes())
        check.fn(case)
    except limits.CallTimeout as e:
        # Not a ClauseViolation (an Exception), so hypothesis does not replay the hang to shrink it.
        limits.reset()
        limits.record_hang(f"{e.summary}, in {test_id(check_id, ex.dtype)}")
        e.report = failure_text(check_id, impl, ex, e.summary)
        raise
    except limits.BudgetSpent:
        limits.reset()
        raise Skip(limits.budget_text()) from None


def case_type(impl: Implementation) -> type:
    """The Case class of impl's family (its properties module's CASE)."""
    import importlib

    return importlib.import_module(registry.family_of(impl).properties).CASE


def describe(impl: Implementation, ex: Example) -> str:
    return case_type(impl).describe(ex)


# ---- failure messages ----

def reproduce_command(check_id: str, ex: Example) -> str:
    target = outcomes.TARGET or "<target>"
    t = limits.call_timeout()
    limit = "" if t == limits.DEFAULT_CALL_TIMEOUT else f" --call-timeout {t or 0:g}"
    return f"pe-spec repro {shlex.quote(target)} {check_id} {shlex.quote(ex.to_json())}{limit}"


def failure_text(check_id: str, impl: Implementation, ex: Example, what: str, *, observed: float | None = None,
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
    lines.append(f"  counterexample: {describe(impl, ex)}")
    lines.append(f"  reproduce: {reproduce_command(check_id, ex)}")
    return "\n".join(lines)


def failure_fields(check_id: str, ex: Example, what: str, *, observed: float | None = None,
                   allowed: float | None = None, where: str = "") -> dict:
    """A failure, structured for the JSON report: the example (replayable), what went wrong, the
    observed and allowed errors and their ratio, and where (position and pair, when it says)."""
    import re

    ratio = (observed / allowed if allowed > 0 else float("inf")) if observed is not None and allowed else None
    position = re.search(r"\(position (-?\d+)\)", where)
    pair = re.search(r"\bpair (\d+)", where)
    return {"check_id": check_id, "dtype": ex.dtype, "example": asdict(ex), "what": what,
            "observed": observed, "allowed": allowed, "ratio": ratio, "where": where,
            "position": int(position.group(1)) if position else None, "pair": int(pair.group(1)) if pair else None,
            "reproduce": reproduce_command(check_id, ex)}


def measure(case: Any, observed: np.ndarray, allowed: np.ndarray, what: str,
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
        case.fail(what, observed=float(observed[idx]), allowed=float(allowed[idx]), where=locate(idx))
