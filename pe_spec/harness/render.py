"""Renderers of the verdict (the report object pe_spec.harness.report.build makes): the terminal
verdict line and output notes, JSON and Markdown, and atomic writing. They only read it."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pe_spec.harness.report import regimes_line


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
    nv, na = len(s["not_verified"]), s.get("not_applicable", 0)
    head = report["verdict"].upper()
    inc = report.get("incident")
    crash = f"; the check process {inc['exit']}" if inc and inc.get("kind") == "crash" else (
        "; the watchdog killed the check process" if inc else "")
    skipped = [f"{na} not applicable"] if na else []
    if nv:
        skipped.append(f"{nv} not verified: {', '.join(s['not_verified'])}")
    cut = f"; {s['incomplete'].removeprefix('not verified: not run, ')}" if s.get("incomplete") else ""
    return (f"pe-spec {report['spec_version']}: {head}: "
            f"{report['implementation']['target']}: {s['pass']} passed, {s['fail']} failed, {s['error']} errors, {s['skip']} skipped"
            + (f" ({'; '.join(skipped)})" if skipped else "") + cut + crash)


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
    if report.get("regimes"):
        lines += ["", "## Input regimes", "", regimes_line(report), "",
                  "| regime | status | tests | examples | why not |", "|---|---|---|---|---|"]
        lines += [f"| `{r['name']}` | {r['status']} | {r['tests']} | {r['examples']} | {r['reason']} |"
                  for r in report["regimes"]]
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
