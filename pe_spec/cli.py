"""The pe-spec command line: check, list, explain, repro.

Exit status: 0 conformant (or success), 1 nonconformant, 2 usage or loading error.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import textwrap
import time
from typing import Sequence

EXIT_OK, EXIT_NONCONFORMANT, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("pe-spec: interrupted", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default exit code is already 2; keep it to one line
        self.exit(EXIT_USAGE, f"pe-spec: {message} (see pe-spec --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pe-spec", description="Check positional-encoding kernels against the pe-spec conformance suite.")
    from pe_spec import SPEC_VERSION, __version__

    p.add_argument("--version", action="version", version=f"pe-spec {__version__} (spec {SPEC_VERSION})")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    c = sub.add_parser("check", help="check an implementation against every clause of its family")
    c.add_argument("target", nargs="?", default=None,
                   help="path/to/file.py:name, package.module:name, or examples:name (default: $PE_IMPL)")
    c.add_argument("--profile", choices=("ci", "dev", "thorough"), default="ci",
                   help="hypothesis profile: ci (derandomized, default), dev (fresh seeds), thorough")
    c.add_argument("--clause", action="append", default=[], metavar="ID", help="check only this clause (repeatable)")
    c.add_argument("--seed", type=int, default=None, help="hypothesis seed (dev/thorough profiles)")
    c.add_argument("--report", metavar="FILE.json", help="write the JSON report")
    c.add_argument("--markdown", metavar="FILE.md", help="write the Markdown report")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress, only the verdict and failures")
    c.set_defaults(run=_check)

    ls = sub.add_parser("list", help="list the clauses")
    ls.add_argument("--family", action="append", help="only this family (rope, impl, device)")
    ls.set_defaults(run=_list)

    e = sub.add_parser("explain", help="print one clause with its math and rationale")
    e.add_argument("clause_id")
    e.set_defaults(run=_explain)

    r = sub.add_parser("repro", help="replay one counterexample printed by a failed check")
    r.add_argument("target")
    r.add_argument("check_id", help="the check id from the failure's reproduce line, e.g. rope.reference")
    r.add_argument("example", help="the example JSON from the failure's reproduce line")
    r.set_defaults(run=_repro)
    return p


def _list(args) -> int:
    from pe_spec import SPEC_VERSION, clauses

    rows = [c for c in clauses.all_clauses() if not args.family or c.family in args.family]
    width = max(len(c.id) for c in rows)
    print(f"pe-spec {SPEC_VERSION}: {len(rows)} clauses")
    for c in rows:
        print(f"  {c.id:<{width}}  {c.level:<6}  {c.title}")
    return EXIT_OK


def _explain(args) -> int:
    from pe_spec import clauses

    try:
        c = clauses.get(args.clause_id)
    except KeyError as e:
        print(f"pe-spec: {e.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    wrap = lambda s: textwrap.fill(s, 96, initial_indent="  ", subsequent_indent="  ")
    print(f"{c.id}  ({c.level}, since {c.since})  {c.title}\n")
    for head, body in (("Statement", c.statement), ("Math", c.math), ("Why it holds", c.rationale),
                       ("Guards against", c.guards_against)):
        print(f"{head}:\n{wrap(body)}\n")
    if c.derivation:
        print(f"Derivation: {c.derivation} (sympy; proven in tests/test_rope_symbolic.py)")
    if c.references:
        print("References:\n" + "\n".join(f"  - {r}" for r in c.references))
    return EXIT_OK


def _load_or_exit(target: str):
    from pe_spec.loading import LoadError, load

    try:
        return load(target)
    except LoadError as e:
        print(f"pe-spec: {e}", file=sys.stderr)
        return None


def _check(args) -> int:
    args.target = args.target or os.environ.get("PE_IMPL")
    if not args.target:
        print("pe-spec: check needs a target (path/to/file.py:name or package.module:name) or PE_IMPL",
              file=sys.stderr)
        return EXIT_USAGE
    impl = _load_or_exit(args.target)
    if impl is None:
        return EXIT_USAGE
    from pe_spec import clauses

    for cid in args.clause:
        try:
            clauses.get(cid)
        except KeyError as e:
            print(f"pe-spec: {e.args[0]}", file=sys.stderr)
            return EXIT_USAGE
    import pytest

    from pe_spec import report as rep
    from pe_spec.progress import Progress

    pytest_args = ["--pyargs", "pe_properties", "-p", "no:cacheprovider", "-p", "no:randomly",
                   "-W", "ignore::DeprecationWarning", "--pe-impl", args.target, "--pe-profile", args.profile,
                   "-q", "--no-header", "--tb=no", "-rN"]
    for cid in args.clause:
        pytest_args += ["--pe-clause", cid]
    if args.seed is not None:
        pytest_args += ["--hypothesis-seed", str(args.seed)]
    if args.report:
        pytest_args += ["--pe-report", args.report]
    if args.markdown:
        pytest_args += ["--pe-markdown", args.markdown]
    progress = Progress(sys.stdout, quiet=args.quiet)
    progress.start(impl, args.target, args.profile)
    # pytest's own terminal output is replaced by the progress lines and the final report.
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        code = pytest.main(pytest_args, plugins=[progress])
    report = progress.report
    if report is None:
        sys.stdout.write(captured.getvalue()[-4000:])
        print(f"pe-spec: the property run did not complete (pytest exit {int(code)})", file=sys.stderr)
        return EXIT_USAGE if int(code) in (2, 3, 4) else EXIT_NONCONFORMANT
    progress.finish(report)
    return EXIT_OK if report["verdict"] == "conformant" else EXIT_NONCONFORMANT


def _repro(args) -> int:
    impl = _load_or_exit(args.target)
    if impl is None:
        return EXIT_USAGE
    from pe_spec import outcomes
    from pe_spec.contract import Unsupported

    from pe_properties import load_checks
    from pe_properties.harness import Example, run_check

    CHECKS = load_checks()

    if args.check_id not in CHECKS:
        print(f"pe-spec: unknown check {args.check_id!r}; known: {', '.join(sorted(CHECKS))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        ex = Example.from_json(args.example)
    except (ValueError, TypeError) as e:
        print(f"pe-spec: cannot read the example JSON: {e}", file=sys.stderr)
        return EXIT_USAGE
    outcomes.TARGET = args.target
    try:
        run_check(args.check_id, impl, ex)
    except outcomes.ClauseViolation as e:
        print(str(e))
        return EXIT_NONCONFORMANT
    except Unsupported as e:
        print(f"pe-spec: the factory reports this configuration unsupported: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:
        if type(e).__name__ == "UnsatisfiedAssumption":
            print("pe-spec: the factory reports this configuration unsupported", file=sys.stderr)
            return EXIT_USAGE
        raise
    print(f"{args.check_id}: holds for this example")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
