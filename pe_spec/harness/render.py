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


def diagnosis_lines(report: dict) -> list[str]:
    """What is most likely wrong, first: the findings of the diagnosis (pe_properties.diagnosis)."""
    findings = report.get("diagnosis") or []
    if not findings:
        return []
    out = ["Diagnosis (read from the kernel's outputs; the failing clauses below are the evidence):"]
    for n, f in enumerate(findings):
        out.append(f"  {'most likely: ' if n == 0 else 'also: '}{f['cause']}")
        if f.get("evidence"):
            out.append(f"    evidence: {f['evidence']}")
    return out


def _size(t: dict) -> int:
    ex = (t.get("failure") or {}).get("example") or {}
    n = len(ex.get("positions") or [0]) * max(1, ex.get("config", {}).get("head_dim", 1))
    for d in ex.get("lead") or []:
        n *= max(d, 1)
    return n if ex else 1 << 62


def failure_blocks(report: dict) -> list[list[str]]:
    """One block per failing clause, most specific first (report["failure_order"]): the clause, the
    dtypes it failed in, the smallest failing example's evidence and repro, the other dtypes' ratios."""
    by_id = {c["id"]: c for c in report["clauses"]}
    order = report.get("failure_order") or [c["id"] for c in report["clauses"] if c["status"] in ("fail", "error")]
    blocks = []
    for cid in order:
        c = by_id[cid]
        bad = [t for t in c["tests"] if t["status"] in ("fail", "error")]
        if not bad:
            continue
        shown = min(bad, key=_size)
        lines = shown["message"].splitlines()
        head, body = (lines[0], lines[1:]) if lines and lines[0].startswith("[") else ("", lines)
        statement = head.split(": ", 1)[1] if ": " in head else ""
        dtypes = ", ".join(t["dtype"] or "-" for t in bad)
        block = [f"{cid} ({c['level']}) failed in {dtypes}" + (f": {statement}" if statement else "")]
        block += [l if l.startswith("  ") else f"  {l}" for l in body]
        others = [f"{t['dtype']} (ratio {t['worst_ratio']:.3g})" if isinstance(t["worst_ratio"], float) else t["dtype"]
                  for t in bad if t is not shown and t["dtype"]]
        if others:
            block.append(f"  also in {', '.join(others)}")
        blocks.append(block)
    return blocks


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
        detail = clause_summary(c).replace("|", "\\|")
        lines.append(f"| `{c['id']}` | {c['level']} | {c['status']} | {r} | {detail} |")
    notes = output_notes(report)
    if notes:
        lines += ["", "```", *notes, "```"]
    if report.get("regimes"):
        lines += ["", "## Input regimes", "", regimes_line(report), "",
                  "| regime | status | tests | examples | why not |", "|---|---|---|---|---|"]
        lines += [f"| `{r['name']}` | {r['status']} | {r['tests']} | {r['examples']} | {r['reason']} |"
                  for r in report["regimes"]]
    diagnosis = diagnosis_lines(report)
    if diagnosis:
        lines += ["", "## Diagnosis", "", *[f"- {f['cause']} (evidence: {f['evidence']})" for f in report["diagnosis"]]]
    blocks = failure_blocks(report)
    if blocks:
        lines += ["", "## Failures, most specific first", ""]
        for block in blocks:
            lines += [f"### {block[0]}", "", "```", *block[1:], "```", ""]
    return "\n".join(lines) + "\n"


def clause_summary(c: dict) -> str:
    """A clause's outcome in a few words (its details are in the failure blocks, once)."""
    bad = [t for t in c["tests"] if t["status"] in ("fail", "error")]
    if bad:
        return f"{c['status']} in {', '.join(t['dtype'] or '-' for t in bad)}"
    return c["detail"].replace("\n", " ")


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
