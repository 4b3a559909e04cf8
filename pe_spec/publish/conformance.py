"""The published conformance table: every bundled and adapted implementation x every clause.

    python -m pe_spec.publish.conformance                  check everything, write docs/conformance.{md,json}
    python -m pe_spec.publish.conformance --only transformers:llama   re-check some rows, keep the others

Each row is a real ``pe-spec check TARGET`` run (a fresh process, the ``ci`` profile), so the
table says exactly what a user gets; the table has one section per registered family, in
registry order. A cell holds the clause's status and its worst observed/allowed error ratio;
failures link to the library's findings page (docs/findings/), where each one is investigated.
docs/conformance.json keeps the same data for the drift test (tests/test_conformance.py).
"""
from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pe_spec.adapters import ADAPTERS, MissingLibrary, distribution_versions
from pe_spec.publish import DOCS_DIR
from pe_spec.spec import clauses, registry
from pe_spec.spec.contract import Implementation

DOCS = DOCS_DIR
TABLE_MD, TABLE_JSON = DOCS / "conformance.md", DOCS / "conformance.json"
PROG = "python -m pe_spec.publish.conformance"


def implementations(short_name: str, module_name: str) -> dict[str, str]:
    """'short:attr' -> family, for every implementation a module defines, in definition order."""
    module = importlib.import_module(module_name)
    return {f"{short_name}:{name}": obj.family for name, obj in vars(module).items() if isinstance(obj, Implementation)}


def target_families() -> dict[str, str]:
    """Every row's target -> its family: the bundled examples, then every adapter's implementations
    (a missing library is an error)."""
    from pe_spec.examples import bundled

    targets = {f"examples:{name}": impl.family for name, impl in bundled().items()}
    for short, (module, _, _) in ADAPTERS.items():
        try:
            targets |= implementations(short, module)
        except MissingLibrary as e:
            raise SystemExit(f"{PROG}: cannot list the {short} adapter's implementations: {e}")
    return targets


def all_targets() -> list[str]:
    return list(target_families())


def check(target: str, family: str, profile: str) -> dict:
    """One `pe-spec check` in a fresh process; its report, or a row saying why none came back."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        proc = subprocess.run([sys.executable, "-m", "pe_spec", "check", target, "-q", "--profile", profile,
                               "--report", str(out)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if out.exists():
            return json.loads(out.read_text())
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"implementation": {"target": target, "family": family}, "verdict": "error",
            "error": f"exit {proc.returncode}: {tail[0]}", "clauses": [], "environment": {}}


def row(report: dict) -> dict:
    """What the table keeps of a report."""
    impl = report["implementation"]
    return {"family": impl["family"], "name": impl.get("name", ""), "verdict": report["verdict"],
            "error": report.get("error", ""), "duration_s": report.get("duration_s"),
            "declared": impl.get("declared", {}),
            "clauses": {c["id"]: {"status": _cell_status(c), "worst_ratio": c["worst_ratio"], "detail": c["detail"]}
                        for c in report["clauses"]}}


def _cell_status(clause: dict) -> str:
    if clause["status"] == "skip":
        return "n/a" if clause["detail"].startswith("not applicable") else "not verified"
    return clause["status"]


def library_of(target: str) -> str:
    short = target.split(":", 1)[0]
    return short if short in ADAPTERS else "pe-spec"


def _cell(c: dict | None) -> str:
    if c is None:
        return ""
    r = c["worst_ratio"]
    ratio = f" {r:.2g}" if isinstance(r, (int, float)) else (f" {r}" if r else "")
    return {"pass": f"pass{ratio}", "fail": f"**FAIL**{ratio}", "error": "**ERROR**"}.get(c["status"], c["status"])


def _short_clause(cid: str, family: str) -> str:
    """A column header: the clause ID without its family's prefix in that family's own section."""
    return cid.split(".", 1)[1] if clauses.get(cid).prefix == family else cid


def _sections(rows: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """family -> its rows, in registry order; a row of a family that is not registered is an error."""
    known = registry.names()
    strays = {t: r["family"] for t, r in rows.items() if r["family"] not in known}
    if strays:
        raise ValueError(f"conformance rows of unregistered families (pe-spec knows {', '.join(known)}): "
                         + ", ".join(f"{t} ({f!r})" for t, f in strays.items()))
    return {f: {t: r for t, r in rows.items() if r["family"] == f} for f in known}


def render(table: dict) -> str:
    rows: dict[str, dict] = table["rows"]
    env = table["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["libraries"].items())
    lines = ["# Conformance table", "",
             f"<!-- generated by `{PROG}`; do not edit by hand -->", "",
             f"Every bundled kernel and every third-party kernel pe-spec has an adapter for "
             f"(`pe_spec/adapters/`), checked by `pe-spec check TARGET` with the `{table['profile']}` profile. "
             "A cell is the clause's status and its worst observed/allowed error ratio (below 1 passes); "
             "`n/a`: the clause does not apply to what the kernel declares; `not verified`: it could not "
             "run here (e.g. device.agreement without an accelerator). Every failure is investigated on the "
             "library's findings page.", "",
             f"Generated {table['generated']} with pe-spec {table['pe_spec_version']} (spec {table['spec_version']}), "
             f"torch {env['torch']}, Python {env['python']}, devices {', '.join(env['devices'])}"
             + (f", TRITON_INTERPRET={env['triton_interpret']}" if env.get("triton_interpret") else "") + ".", "",
             f"Library versions: {versions}.", ""]
    order = [c.id for c in clauses.all_clauses()]
    for family, fam_rows in _sections(rows).items():
        if not fam_rows:
            continue
        cols = [cid for cid in order if any(cid in r["clauses"] for r in fam_rows.values())]
        lines += [f"## {family}", "", "| implementation | verdict | "
                  + " | ".join(f"`{_short_clause(c, family)}`" for c in cols) + " |",
                  "|---|---|" + "---|" * len(cols)]
        for target, r in fam_rows.items():
            verdict = r["verdict"] if r["verdict"] == "conformant" else f"**{r['verdict']}**"
            lines.append(f"| `{target}` | {verdict} | " + " | ".join(_cell(r["clauses"].get(c)) for c in cols) + " |")
        lines.append("")
    failures = [(t, cid, c) for t, r in rows.items() for cid, c in r["clauses"].items() if c["status"] in ("fail", "error")]
    broken = [(t, r["error"]) for t, r in rows.items() if r["error"]]
    if failures or broken:
        lines += ["## Failures and where they are investigated", ""]
        for t, cid, c in failures:
            lines.append(f"- `{t}` **{cid}**: {c['detail'].splitlines()[0] if c['detail'] else ''} "
                         f"See [findings/{library_of(t)}.md](findings/{library_of(t)}.md).")
        for t, err in broken:
            lines.append(f"- `{t}`: the check did not produce a report ({err}).")
        lines.append("")
    return "\n".join(lines)


def load_table() -> dict | None:
    return json.loads(TABLE_JSON.read_text()) if TABLE_JSON.exists() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", metavar="TARGET", help="re-check only these rows (repeatable)")
    ap.add_argument("--profile", default="ci", choices=("ci", "dev", "thorough"))
    args = ap.parse_args(argv)
    families = target_families()
    targets = args.only or list(families)
    unknown = [t for t in targets if t not in families]
    if unknown:
        raise SystemExit(f"{PROG}: no row is named {', '.join(unknown)} (rows: {', '.join(families)})")
    previous = load_table() if args.only else None
    rows = dict(previous["rows"]) if previous else {}
    if previous and previous["profile"] != args.profile:
        raise SystemExit(f"--only with profile {args.profile} would mix profiles (the table is {previous['profile']})")
    env = previous["environment"] if previous else None
    for i, target in enumerate(targets, 1):
        started = time.time()
        print(f"[{i}/{len(targets)}] {target} ...", end=" ", flush=True)
        report = check(target, families[target], args.profile)
        rows[target] = row(report)
        env = report.get("environment") or env
        print(f"{report['verdict']} ({time.time() - started:.0f} s)", flush=True)
        _write(rows, env, args.profile, list(families))   # after every row: an interrupted run keeps its rows
    if env is None:
        raise SystemExit(f"{PROG}: no check produced a report")
    print(f"wrote {TABLE_MD.relative_to(DOCS.parent)} and {TABLE_JSON.relative_to(DOCS.parent)}")
    return 0


def _write(rows: dict, env: dict | None, profile: str, ordered: list[str]) -> None:
    import pe_spec
    from pe_spec.harness.render import write_atomic

    if env is None:
        return
    table = {"generated": time.strftime("%Y-%m-%d"), "profile": profile, "pe_spec_version": pe_spec.__version__,
             "spec_version": pe_spec.SPEC_VERSION,
             "environment": {k: env.get(k) for k in ("python", "torch", "devices", "triton_interpret")}
             | {"libraries": distribution_versions()},
             "rows": {t: rows[t] for t in ordered if t in rows}}
    write_atomic(TABLE_JSON, json.dumps(table, indent=1, sort_keys=False) + "\n")
    write_atomic(TABLE_MD, render(table) + "\n")

if __name__ == "__main__":
    sys.exit(main())
