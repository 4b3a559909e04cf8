"""The verdict: per-test results collected into per-clause statuses and one report object, built
once; renderers (pe_spec.harness.render) only read it.

JSON schema (DESIGN.md): {"spec_version", "pe_spec_version", "implementation", "verdict":
"conformant"|"nonconformant"|"incomplete" (no failure, but the time budget ran out first), "summary"
(counts, "not_verified" ids, "why_not_verified" {id: why}, "not_applicable" count, "incomplete": why), "environment", "reproduce", "incident", "output",
"clauses": [{"id", "level", "title", "status": "pass"|"fail"|"skip"|"error", "detail",
"worst_ratio", "tests": [{"nodeid" (CHECK_ID[dtype]), "clause_id", "dtype", "status", "message",
"worst_ratio", "worst_at", "examples", "unsupported_configs", "regimes" ({regime: examples}),
"duration_s", "shrunk" (for a failure: whether its counterexample is fully shrunk), "notes", "not_run",
"failure" (for a failure: {"check_id", "dtype", "example", "what", "observed", "allowed", "ratio", "where",
"position", "pair", "reproduce"}, the example shown, whose ratio is the test's worst_ratio)}]}],
"diagnosis": [{"cause", "evidence", "source"}] (what is most likely wrong, pe_properties.diagnosis),
"failure_order": the failing clause ids, most specific first, "regimes": [{"name", "status": "reached"|"not reached"|"not applicable", "reason", "tests",
"examples"}]} (pe_spec.spec.regimes: the input regimes, which tests reached each). ``environment`` records the
profile, the seed (null: the profile's fixed one), the shrink budget and the limits.
``incident`` (null unless the check process crashed or was killed) says what was running;
``output`` counts what the implementation printed, with a tail.
A clause passes only when every applicable test of it passed; a test skipped as "not
applicable" (an undeclared dtype, full rotary only) does not count, one skipped for another
reason makes the clause "skip" (not verified). The verdict is conformant when no MUST clause
failed or errored; the summary says how many were not verified.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from pe_properties.diagnosis import ordered_failures
from pe_properties.engine import TestResult
from pe_properties.outcomes import NOT_APPLICABLE

from pe_spec import SPEC_VERSION, __version__
from pe_spec.spec import clauses, regimes, registry

__all__ = ["TestResult", "ClauseResult", "aggregate", "build", "environment", "NOT_APPLICABLE"]
_RANK = {"fail": 0, "error": 1, "skip": 2, "pass": 3}


@dataclass
class ClauseResult:
    id: str
    level: str
    title: str
    status: str
    detail: str
    worst_ratio: float | None
    tests: list[TestResult] = field(default_factory=list)


def aggregate(results: list[TestResult]) -> list[ClauseResult]:
    by_clause: dict[str, list[TestResult]] = {}
    for r in results:
        by_clause.setdefault(r.clause_id, []).append(r)
    out = []
    for cid, tests in by_clause.items():
        c = clauses.get(cid)
        applicable = [t for t in tests if not t.not_applicable]
        if not applicable:
            status, detail = "skip", tests[0].message
        else:
            status = min((t.status for t in applicable), key=_RANK.__getitem__)
            detail = _detail(status, applicable)
        ratios = [t.worst_ratio for t in applicable if t.worst_ratio is not None]
        out.append(ClauseResult(cid, c.level, c.title, status, detail, max(ratios) if ratios else None, tests))
    return out


def _detail(status: str, tests: list[TestResult]) -> str:
    dtypes = ", ".join(sorted({t.dtype for t in tests if t.status == "pass" and t.dtype}))
    if status == "pass":
        n = sum(t.examples for t in tests)
        notes = list(dict.fromkeys(note for t in tests for note in t.notes))
        text = f"verified for {dtypes} ({n} examples)" if dtypes else f"verified ({n} examples)"
        return text + "".join(f"; note: {note}" for note in notes)
    by_message: dict[str, list[str]] = {}
    for t in tests:
        if t.status == status:
            by_message.setdefault(_summary(t.message) or status, []).append(t.dtype or "-")
    return "; ".join(f"[{', '.join(d)}] {m}" for m, d in by_message.items())


def _summary(message: str) -> str:
    """The informative line(s) of a failure message: what went wrong and by how much."""
    lines = [l.strip() for l in message.split("\n  last output of the check process")[0].splitlines()]
    if lines and lines[0].startswith("["):  # a ClauseViolation: skip the restated clause
        body = [l for l in lines[1:] if not l.startswith(("counterexample:", "reproduce:"))]
        return "; ".join(body)
    return lines[0] if lines else ""


def environment(profile: str, seed: Any, settings_used: dict) -> dict:
    """Where a check ran: versions, devices, profile and seed base, the settings it used."""
    import hypothesis
    import numpy
    import torch

    from pe_spec.adapters import distribution_versions
    from pe_spec.harness import profiles

    devices = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    names = {d: torch.cuda.get_device_name(i) for i, d in enumerate(devices[1:])}
    return {
        "python": platform.python_version(), "platform": platform.platform(),
        "torch": torch.__version__, "numpy": numpy.__version__, "hypothesis": hypothesis.__version__,
        "libraries": distribution_versions(), "triton_interpret": os.environ.get("TRITON_INTERPRET", ""),
        "devices": devices, "device_names": {"cpu": platform.processor() or platform.machine(), **names},
        "cpu_count": os.cpu_count(), "profile": profile, "seed": seed,
        "source_constants_pinned": profiles.SOURCE_CONSTANTS_PINNED, **settings_used,
    }


def build(target: str, impl, results: list[TestResult], env: dict, started: float, *,
          reproduce: str | None = None, incident: dict | None = None, output: dict | None = None,
          diagnosis: list[dict] | None = None) -> dict:
    """The report. ``impl`` is the Implementation, or its {name, family, declared} as the check
    process sent it; an ``incident`` (the check process crashed or was killed) makes the verdict
    nonconformant whatever the clauses say."""
    if not isinstance(impl, dict):
        impl = {"name": impl.name, "family": impl.family, "declared": dict(impl.declared)}
    per_clause = aggregate(results)
    counts = {s: sum(1 for c in per_clause if c.status == s) for s in ("pass", "fail", "skip", "error")}
    bad = [c for c in per_clause if c.level == "MUST" and c.status in ("fail", "error")]
    skipped = [c for c in per_clause if c.status == "skip"]
    not_verified = [c.id for c in skipped if not c.detail.startswith(NOT_APPLICABLE)]
    cut = [r for r in results if r.not_run == "time budget"]
    verdict = "nonconformant" if bad or incident else "incomplete" if cut else "conformant"
    return {
        "spec_version": SPEC_VERSION,
        "pe_spec_version": __version__,
        "implementation": {"target": target, "name": impl["name"], "family": impl["family"],
                           "declared": dict(impl["declared"])},
        "verdict": verdict,
        "summary": {**counts, "not_verified": not_verified, "not_applicable": len(skipped) - len(not_verified),
                    "why_not_verified": {c.id: c.detail for c in skipped if c.id in not_verified},
                    "incomplete": cut[0].message if cut else "", "clauses": len(per_clause)},
        "environment": env,
        "reproduce": reproduce,
        "incident": incident,
        "output": output,
        "time_start": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 3),
        "diagnosis": list(diagnosis or []),
        "failure_order": ordered_failures(results, impl["family"]),
        "regimes": regimes_of(impl["family"], results, impl["declared"]),
        "clauses": [_clause_json(c) for c in per_clause],
    }


def regimes_of(family: str, results: list[TestResult], declarations: dict) -> list[dict]:
    """Per input regime (pe_spec.spec.regimes): the tests that reached it and their examples, or why
    it cannot apply to the family's kernels; "not reached" when it applies and no example met it
    (the kernel's declarations exclude it, or its tests did not run)."""
    record = registry.get(family)
    out = []
    for regime in regimes.REGIMES:
        if regime.name in record.regimes_not_applicable:
            out.append({"name": regime.name, "status": "not applicable",
                        "reason": record.regimes_not_applicable[regime.name], "tests": 0, "examples": 0})
            continue
        reached = [t for t in results if t.regimes.get(regime.name)]
        reason = "" if reached else regime.excluded_by(declarations)
        out.append({"name": regime.name, "status": "reached" if reached else "not reached", "reason": reason,
                    "tests": len(reached), "examples": sum(t.regimes[regime.name] for t in reached)})
    return out


def regimes_line(report: dict) -> str:
    """One line on the regimes: how many were reached, and those that were not."""
    rows = report.get("regimes") or []
    applicable = [r for r in rows if r["status"] != "not applicable"]
    missed = [r["name"] + (f" ({r['reason']})" if r["reason"] else "") for r in applicable if r["status"] == "not reached"]
    na = [r["name"] for r in rows if r["status"] == "not applicable"]
    text = f"input regimes reached: {len(applicable) - len(missed)} of {len(applicable)}"
    if missed:
        text += f" (not reached: {', '.join(missed)})"
    if na:
        text += f"; not applicable to {report['implementation']['family']} kernels: {', '.join(na)}"
    return text


def _clause_json(c: ClauseResult) -> dict:
    d = asdict(c)
    for t in d["tests"]:
        t["worst_ratio"] = _finite(t["worst_ratio"])
    d["worst_ratio"] = _finite(d["worst_ratio"])
    return d


def _finite(v):
    if v is None or v != v:
        return None if v is None else "nan"
    return v if v != float("inf") else "inf"
