"""Collect per-test results into per-clause verdicts; write the JSON and Markdown reports.

JSON schema (DESIGN.md): {"spec_version", "pe_spec_version", "implementation", "verdict":
"conformant"|"nonconformant", "summary", "environment", "reproduce", "incident", "output",
"clauses": [{"id", "level", "title", "status": "pass"|"fail"|"skip"|"error", "detail",
"worst_ratio", "tests": [...]}]}. ``incident`` (null unless the check process crashed or was
killed) says what was running; ``output`` counts what the implementation printed, with a tail.
A clause passes only when every applicable test of it passed; a test skipped as "not
applicable" (an undeclared dtype, full rotary only) does not count, one skipped for another
reason makes the clause "skip" (not verified). The verdict is conformant when no MUST clause
failed or errored; the summary says how many were not verified.
"""
from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pe_spec import SPEC_VERSION, __version__, clauses

NOT_APPLICABLE = "not applicable"
_RANK = {"fail": 0, "error": 1, "skip": 2, "pass": 3}


@dataclass
class TestResult:
    nodeid: str
    clause_id: str
    dtype: str | None
    status: str                  # pass | fail | skip | error
    message: str = ""
    worst_ratio: float | None = None
    worst_at: str = ""
    examples: int = 0
    unsupported_configs: int = 0
    duration_s: float = 0.0

    @property
    def not_applicable(self) -> bool:
        return self.status == "skip" and self.message.startswith(NOT_APPLICABLE)


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
        return f"verified for {dtypes} ({n} examples)" if dtypes else f"verified ({n} examples)"
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
    import hypothesis
    import numpy
    import torch

    from pe_spec import profiles
    from pe_spec.adapters import distribution_versions

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
          reproduce: str | None = None, incident: dict | None = None, output: dict | None = None) -> dict:
    """The report. ``impl`` is the Implementation, or its {name, family, declared} as the check
    process sent it; an ``incident`` (the check process crashed or was killed) makes the verdict
    nonconformant whatever the clauses say."""
    if not isinstance(impl, dict):
        impl = {"name": impl.name, "family": impl.family, "declared": dict(impl.declared)}
    per_clause = aggregate(results)
    counts = {s: sum(1 for c in per_clause if c.status == s) for s in ("pass", "fail", "skip", "error")}
    bad = [c for c in per_clause if c.level == "MUST" and c.status in ("fail", "error")]
    not_verified = [c.id for c in per_clause if c.status == "skip" and not c.detail.startswith(NOT_APPLICABLE)]
    return {
        "spec_version": SPEC_VERSION,
        "pe_spec_version": __version__,
        "implementation": {"target": target, "name": impl["name"], "family": impl["family"],
                           "declared": dict(impl["declared"])},
        "verdict": "nonconformant" if bad or incident else "conformant",
        "summary": {**counts, "not_verified": not_verified, "clauses": len(per_clause)},
        "environment": env,
        "reproduce": reproduce,
        "incident": incident,
        "output": output,
        "time_start": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 3),
        "clauses": [_clause_json(c) for c in per_clause],
    }


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


def output_notes(report: dict, lines: int = 5) -> list[str]:
    """One line per stream the implementation wrote to, with its last few lines."""
    out = []
    for name, cap in (report.get("output") or {}).items():
        if cap and cap.get("bytes"):
            out.append(f"note: the implementation wrote {cap['bytes']} bytes to {name}"
                       + ("; last lines:" if cap.get("tail") else ""))
            out += [f"  | {l[:160]}" for l in cap.get("tail", "").splitlines()[-lines:]]
    return out


def verdict_line(report: dict) -> str:
    s = report["summary"]
    nv = len(s["not_verified"])
    head = "CONFORMANT" if report["verdict"] == "conformant" else "NONCONFORMANT"
    inc = report.get("incident")
    crash = f"; the check process {inc['exit']}" if inc and inc.get("kind") == "crash" else (
        "; the watchdog killed the check process" if inc else "")
    return (f"pe-spec {report['spec_version']}: {head}: "
            f"{report['implementation']['target']}: {s['pass']} passed, {s['fail']} failed, {s['error']} errors, {s['skip']} skipped"
            + (f" ({nv} not verified: {', '.join(s['not_verified'])})" if nv else "") + crash)


def to_markdown(report: dict) -> str:
    env = report["environment"]
    lines = [f"# pe-spec conformance report: `{report['implementation']['target']}`", "",
             f"**{verdict_line(report)}**", "",
             f"spec {report['spec_version']}, pe-spec {report['pe_spec_version']}, torch {env['torch']}, "
             f"profile `{env['profile']}`, devices {', '.join(env['devices'])}", "",
             *([f"reproduce: `{report['reproduce']}`", ""] if report.get("reproduce") else []),
             "| clause | level | status | worst observed/allowed | detail |", "|---|---|---|---|---|"]
    for c in report["clauses"]:
        ratio = c["worst_ratio"]
        r = f"{ratio:.3g}" if isinstance(ratio, float) else (ratio or "")
        detail = c["detail"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{c['id']}` | {c['level']} | {c['status']} | {r} | {detail} |")
    notes = output_notes(report)
    if notes:
        lines += ["", "```", *notes, "```"]
    failures = [t for c in report["clauses"] for t in c["tests"] if t["status"] in ("fail", "error")]
    if failures:
        lines += ["", "## Failures", ""]
        for t in failures:
            lines += [f"### `{t['nodeid']}`", "", "```", t["message"], "```", ""]
    return "\n".join(lines) + "\n"


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write via a temporary file and rename, so an interrupted run leaves no half-written report."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, report: dict) -> None:
    write_atomic(path, json.dumps(report, indent=2, default=str) + "\n")
