"""Generate docs/ from the clause registry and the code (never from hand-typed restatements).

    python -m pe_spec.publish.docs            write docs/*.md and docs/plots/*.png
    python -m pe_spec.publish.docs --check    exit 1, listing the stale files, if docs/ differs
                                              from what the registry and the code generate now

Every number, formula constant, clause text, sympy verdict and test citation on the pages is
computed at generation time: clause text from the registry (``pe_spec.spec.clauses``), verdicts
by running ``pe_spec.spec.symbolic.prove_zero`` on each cited derivation, tests from
``pe_properties.engine.CHECKS``, the tolerance model from ``pe_spec.spec.tolerance``, each
family's contract, reference and example kernel from its Family record, and what only one
family shows from its publish module (``pe_spec.publish.hooks``).

One module per page (index, clauses_page, family_page for every family, universal_page,
tolerance_page, regimes_page, matrix_page), plots.py for the PNGs. The Markdown is byte-stable
(tests/test_docs.py regenerates it and compares); the plots only need to exist (plots.py says why).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import DOCS_DIR
from pe_spec.spec import registry

from . import clauses_page, index, matrix_page, regimes_page, tolerance_page, universal_page
from .common import UNIVERSAL_PAGE, Context, citing_tests, page_for
from .family_page import render as render_family_page
from .plots import all_plots, render as render_plots

__all__ = ["DOCS_DIR", "PLOTS", "page_for", "render_markdown", "write", "stale", "main"]

PLOTS: tuple[str, ...] = all_plots()
PROG = "python -m pe_spec.publish.docs"


def render_markdown() -> dict[str, str]:
    """Relative path under docs/ -> Markdown text, for every generated page."""
    ctx = Context(citing_tests())
    pages = {"index.md": index.render(ctx), clauses_page.PAGE: clauses_page.render(ctx)}
    for family in registry.families():
        pages[family.page] = render_family_page(ctx.for_family(family))
    pages[UNIVERSAL_PAGE] = universal_page.render(ctx)
    pages["tolerance.md"] = tolerance_page.render(ctx)
    pages[regimes_page.PAGE] = regimes_page.render(ctx)
    pages[matrix_page.PAGE] = matrix_page.render(ctx)
    return {k: v if v.endswith("\n") else v + "\n" for k, v in pages.items()}


def write(out_dir: Path = DOCS_DIR, *, plots: bool = True) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in render_markdown().items():
        path = out_dir / rel
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    if plots:
        written += render_plots(out_dir)
    return written



def stale(out_dir: Path = DOCS_DIR) -> list[str]:
    """Generated files that are missing under out_dir or differ from what the code generates now."""
    problems = []
    for rel, text in render_markdown().items():
        path = out_dir / rel
        if not path.is_file():
            problems.append(f"{rel} (missing)")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{rel} (differs from the generated text)")
    problems += [f"{rel} (missing)" for rel in PLOTS if not (out_dir / rel).is_file()]
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description="Generate docs/ from the registry and the code.")
    ap.add_argument("--check", action="store_true", help="exit 1 listing stale files instead of writing")
    ap.add_argument("--out", type=Path, default=DOCS_DIR, help=f"output folder (default {DOCS_DIR})")
    ap.add_argument("--no-plots", action="store_true", help="write the Markdown only")
    args = ap.parse_args(argv)
    if args.check:
        problems = stale(args.out)
        if problems:
            print(f"pe_spec.publish.docs: stale generated docs; run `{PROG}`:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"pe_spec.publish.docs: {args.out} is up to date")
        return 0
    for path in write(args.out, plots=not args.no_plots):
        print(f"wrote {path}")
    return 0
