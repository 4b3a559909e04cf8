"""What a property check reports besides pass or fail: measurements, skips and violations.

Property checks call ``record_ratio`` with observed/allowed error; the engine sets which test
is running (``begin``). A check that cannot run raises ``Skip`` (``not_applicable`` /
``not_verified``), never passes silently. Kept dependency-free so the plugin stays light.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class TestMeasure:
    worst_ratio: float = 0.0
    worst_detail: str = ""
    examples: int = 0
    measured: bool = False
    unsupported_configs: int = 0
    regimes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


MEASURES: dict[str, TestMeasure] = {}
_current: list[str] = []


def begin(nodeid: str) -> None:
    _current[:] = [nodeid]
    MEASURES[nodeid] = TestMeasure()


def current() -> TestMeasure:
    if not _current:  # a property called outside pytest (repro, tests): a throwaway measure
        return MEASURES.setdefault("<direct>", TestMeasure())
    return MEASURES[_current[0]]


def record_example(regimes=()) -> None:
    """One example checked, reaching the given input regimes (pe_spec.spec.regimes)."""
    m = current()
    m.examples += 1
    for name in regimes:
        m.regimes[name] = m.regimes.get(name, 0) + 1


def record_ratio(ratio: float, detail: str = "") -> None:
    """Keep the worst observed/allowed ratio of the running test (NaN counts as worst)."""
    m = current()
    m.measured = True
    if math.isnan(m.worst_ratio):
        return
    if math.isnan(ratio) or ratio > m.worst_ratio:
        m.worst_ratio, m.worst_detail = ratio, detail


def record_unsupported() -> None:
    current().unsupported_configs += 1


def note(text: str) -> None:
    m = current()
    if text not in m.notes:
        m.notes.append(text)

# The target string the user passed (for reproduction commands); set by the plugin and CLI.
TARGET: str = ""


NOT_APPLICABLE, NOT_VERIFIED = "not applicable", "not verified"


class Skip(BaseException):
    """The check cannot run for this kernel or here; ``reason`` starts with 'not applicable' (the
    clause does not apply to what the kernel declares) or 'not verified' (it could not be checked).

    A BaseException, like the time limit's CallTimeout: hypothesis lets it through at once
    instead of treating it as a failure to shrink."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def not_applicable(reason: str) -> "Skip":
    return Skip(f"{NOT_APPLICABLE}: {reason}")


def not_verified(reason: str) -> "Skip":
    return Skip(f"{NOT_VERIFIED}: {reason}")


class ClauseViolation(AssertionError):
    """A property does not hold for the implementation; the message is the report the user reads."""

    def __init__(self, clause_id: str, message: str, fields: dict | None = None) -> None:
        super().__init__(message)
        self.clause_id = clause_id
        self.fields = fields or {}   # the failure, structured (pe_properties.engine.failure_fields)
