"""The pe-spec command line: check, list, explain, repro.

Exit status: 0 conformant (or success), 1 nonconformant, 2 usage or loading error.

A check travels one way: this module parses the arguments, the supervisor runs the check process
(pe_spec.harness.runner) and returns everything it reported, the verdict is built once from that
(pe_spec.harness.report.build), and the renderers (pe_spec.harness.render, the progress printer)
only read it.
"""
from __future__ import annotations

import argparse
import os
import signal
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
    except BrokenPipeError:
        # The reader went away (`pe-spec list | head`): say so once, and let nothing else write to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("pe-spec: the output was closed before everything was written", file=sys.stderr)
        return EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's default exit code is already 2; keep it to one line
        self.exit(EXIT_USAGE, f"pe-spec: {message} (see pe-spec --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pe-spec", description="Check positional-encoding kernels against the pe-spec conformance suite.")
    from pe_spec import SPEC_VERSION, __version__
    from pe_spec.harness.profiles import DEFAULT_PROFILE, PROFILES, SHRINK_EXAMPLES, SHRINK_SECONDS
    from pe_spec.spec import registry

    p.add_argument("--version", action="version", version=f"pe-spec {__version__} (spec {SPEC_VERSION})")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    c = sub.add_parser("check", help="check an implementation against every clause of its family")
    c.add_argument("target", nargs="?", default=None,
                   help="path/to/file.py:name, package.module:name, or examples:name (default: $PE_IMPL)")
    c.add_argument("--profile", choices=tuple(PROFILES), default=DEFAULT_PROFILE,
                   help="hypothesis profile: ci (derandomized, default), dev (fresh seeds), thorough")
    c.add_argument("--clause", action="append", default=[], metavar="ID", help="check only this clause (repeatable)")
    c.add_argument("--seed", type=int, default=None,
                   help="seed of the examples (dev/thorough draw a fresh one per run and report it)")
    c.add_argument("--shrink-examples", type=_count, default=SHRINK_EXAMPLES, metavar="N",
                   help=f"examples each clause may run shrinking its failures (default {SHRINK_EXAMPLES}); past it the "
                        "smallest failing example found so far is reported, marked as not fully shrunk")
    c.add_argument("--shrink-seconds", type=_seconds, default=SHRINK_SECONDS, metavar="SECONDS",
                   help=f"and the wall-clock cap on it per clause (default {SHRINK_SECONDS:g})")
    c.add_argument("--report", metavar="FILE.json", help="write the JSON report")
    c.add_argument("--markdown", metavar="FILE.md", help="write the Markdown report")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress, only the verdict and failures")
    c.add_argument("-v", "--verbose", action="store_true",
                   help="also print every failing test whole (each dtype) the moment it ends")
    c.add_argument("--call-timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="the cap on the time limit of each call into the implementation: import, factory, "
                        "kernel (default 300, or $PE_CALL_TIMEOUT; 0: none); below it a first call may take 90 s "
                        "and a later one 20x the slowest of its kind so far, at least 15 s")
    c.add_argument("--time-budget", type=_seconds, default=None, metavar="SECONDS",
                   help="time budget of the whole check: past it the check stops and the clauses not verified "
                        "make the verdict incomplete (default 900; 0: none)")
    c.add_argument("--memory-limit", type=_size, default=None, metavar="SIZE",
                   help="memory limit of the check process, e.g. 8G or 512M (default: 3/4 of physical "
                        "memory; 0: none)")
    c.set_defaults(run=_check)

    ls = sub.add_parser("list", help="list the clauses")
    groups = ", ".join([*registry.names(), "impl", "device"])
    ls.add_argument("--family", action="append", help=f"only the clauses of this prefix ({groups})")
    ls.set_defaults(run=_list)

    e = sub.add_parser("explain", help="print one clause with its math and rationale")
    e.add_argument("clause_id")
    e.set_defaults(run=_explain)

    r = sub.add_parser("repro", help="replay one counterexample printed by a failed check")
    r.add_argument("target")
    r.add_argument("check_id", help="the check id from the failure's reproduce line (a clause id, or CLAUSE#variant)")
    r.add_argument("example", help="the example JSON from the failure's reproduce line")
    r.add_argument("--call-timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="time limit on each call into the implementation (default 300, or $PE_CALL_TIMEOUT; 0: none)")
    r.set_defaults(run=_repro)
    return p


def _seconds(text: str) -> float:
    from pe_properties.limits import parse_timeout

    try:
        return parse_timeout(text) or 0.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a count: {text!r}")
    return value


_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _size(text: str) -> int:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1:] if t[-1:] in _UNITS and t[-1:] else ""
    try:
        value = float(t[: len(t) - len(unit)] if unit else t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 8G, 512M, or 0 for no limit)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(value * _UNITS[unit])


def default_memory_limit() -> int | None:
    """Three quarters of physical memory: an implementation that allocates without bound fails
    its clause with an allocation error long before the machine runs out."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 3 // 4)
    except (ValueError, OSError, AttributeError):
        return None


def _call_timeout(value: float | None) -> float | None:
    """The --call-timeout given, else $PE_CALL_TIMEOUT, else the default; None: no limit."""
    from pe_properties import limits

    if value is not None:
        return value or None
    env = os.environ.get(limits.ENV_CALL_TIMEOUT)
    try:
        return limits.parse_timeout(env)
    except ValueError as e:
        print(f"pe-spec: {limits.ENV_CALL_TIMEOUT}: {e}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def _list(args) -> int:
    from pe_spec import SPEC_VERSION
    from pe_spec.spec import clauses

    rows = [c for c in clauses.all_clauses() if not args.family or c.prefix in args.family]
    if not rows:
        print(f"pe-spec: no clauses with prefix {', '.join(args.family)}", file=sys.stderr)
        return EXIT_USAGE
    width = max(len(c.id) for c in rows)
    print(f"pe-spec {SPEC_VERSION}: {len(rows)} clauses")
    for c in rows:
        print(f"  {c.id:<{width}}  {c.level:<6}  {c.title}")
    return EXIT_OK


def _explain(args) -> int:
    from pe_spec.spec import clauses, registry

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
    if c.universal:
        print("Applies to: every family" + "".join(
            f"\n  {f.name}: " + (f"not applicable: {f.not_applicable[c.id]}" if c.id in f.not_applicable
                                 else f.universal.get(c.id, "as stated")) for f in registry.families()) + "\n")
    if c.derivation:
        _print_derivation(c.derivation, wrap)
    if c.references:
        print("References:\n" + "\n".join(f"  - {r}" for r in c.references))
    return EXIT_OK


def _print_derivation(dotted: str, wrap) -> None:
    """The clause's sympy derivation: what its zero means, the expression, and its verdict, decided
    now (a tenth of a second)."""
    from pe_spec.spec.symbolic import prove_zero, resolve

    build = resolve(dotted)
    expression = build()
    print(f"Derivation ({dotted.rsplit('.', 1)[-1]}, sympy):")
    print(wrap(" ".join((build.__doc__ or "").split())))
    text = " ".join(str(expression).split())
    print(f"  expression: {text if len(text) <= 600 else text[:597] + '...'}")
    print(f"  decided now: {prove_zero(expression)}\n")


def _load_or_exit(target: str):
    from pe_properties.loading import LoadError, load

    try:
        return load(target)
    except LoadError as e:
        print(f"pe-spec: {e}", file=sys.stderr)
        return None


def _check(args) -> int:
    """Run the checks in a child process (pe_spec.harness.runner) under the supervisor; build the
    verdict once; render it."""
    args.target = args.target or os.environ.get("PE_IMPL")
    if not args.target:
        print("pe-spec: check needs a target (path/to/file.py:name or package.module:name) or PE_IMPL",
              file=sys.stderr)
        return EXIT_USAGE
    from pe_spec.spec import clauses

    for cid in args.clause:
        try:
            clauses.get(cid)
        except KeyError as e:
            print(f"pe-spec: {e.args[0]}", file=sys.stderr)
            return EXIT_USAGE
    from pe_spec.harness import supervisor
    from pe_spec.harness.progress import Progress

    from pe_properties.limits import DEFAULT_TIME_BUDGET

    timeout = _call_timeout(args.call_timeout)
    memory = default_memory_limit() if args.memory_limit is None else (args.memory_limit or None)
    args.budget = DEFAULT_TIME_BUDGET if args.time_budget is None else (args.time_budget or None)
    spec = {"target": args.target, "profile": args.profile, "clauses": args.clause, "seed": args.seed,
            "shrink_examples": args.shrink_examples, "shrink_seconds": args.shrink_seconds,
            "call_timeout": timeout, "memory_limit": memory, "time_budget": args.budget}
    started = time.time()
    progress = Progress(sys.stdout, quiet=args.quiet, target=args.target, profile=args.profile,
                        verbose=args.verbose)
    written: list[str] = []
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        run = supervisor.Supervisor(spec, call_timeout=timeout, on_event=progress).execute()
        return _conclude(args, run, progress, started, timeout, memory, written)
    except (KeyboardInterrupt, _Terminated) as e:
        # The child is gone (Supervisor.execute kills it on the way out). A partial run proves
        # nothing: no report is written, an existing one is left as it was (reports are replaced
        # atomically, so one is either whole or untouched).
        done = f"written before it: {', '.join(written)}" if written else "no report was written"
        print(f"pe-spec: interrupted; the check process was stopped; {done}", file=sys.stderr)
        return 143 if isinstance(e, _Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _conclude(args, run, progress, started: float, timeout: float | None, memory: int | None,
              written: list[str]) -> int:
    """What the check process reported -> the verdict (built once) -> the reports, the exit status."""
    from pe_spec.harness import render, report

    if run.load_error is not None:
        print(f"pe-spec: {run.load_error}", file=sys.stderr)
        return EXIT_USAGE
    if run.impl is None or run.environment is None:
        return _did_not_start(run, args.target, timeout)
    env = {**run.environment, "call_timeout_s": timeout, "memory_limit_bytes": memory, "time_budget_s": args.budget,
           "isolation": "subprocess (pe_spec.harness.runner under pe_spec.harness.supervisor)"}
    verdict = report.build(args.target, run.impl, [report.TestResult(**r) for r in run.results], env, started,
                           reproduce=_reproduce_command(args, env["seed"], timeout, memory),
                           incident=run.incident.as_json() if run.incident else None, diagnosis=run.diagnosis,
                           output={cap.name: cap.as_json() for cap in (run.stdout, run.stderr)})
    if run.incident_text:
        print("pe-spec: " + run.incident_text.strip(), file=sys.stderr)
    if args.report:
        render.write_json(args.report, verdict)
        written.append(args.report)
    if args.markdown:
        render.write_atomic(args.markdown, render.to_markdown(verdict))
        written.append(args.markdown)
    progress.finish(verdict)
    return EXIT_OK if verdict["verdict"] == "conformant" else EXIT_NONCONFORMANT


class _Terminated(Exception):
    pass


def _terminate(signum, frame):
    raise _Terminated()


def _reproduce_command(args, seed: int | None, timeout: float | None, memory: int | None) -> str:
    """The command that reruns this check with the same examples (a fresh seed is made explicit)."""
    import shlex

    parts = ["pe-spec", "check", args.target, "--profile", args.profile]
    for cid in args.clause:
        parts += ["--clause", cid]
    if seed is not None:
        parts += ["--seed", str(seed)]
    parts += ["--call-timeout", f"{timeout or 0:g}"]
    if args.time_budget is not None:
        parts += ["--time-budget", f"{args.time_budget:g}"]
    if args.memory_limit is not None:
        parts += ["--memory-limit", str(memory or 0)]
    return " ".join(shlex.quote(p) for p in parts)


def _print_tail(run) -> None:
    for cap in (run.stdout, run.stderr):
        tail = cap.tail_lines()
        if tail:
            print(f"last output of the check process ({cap.name}, {cap.total} bytes in all):", file=sys.stderr)
            print("\n".join(f"  | {l}" for l in tail), file=sys.stderr)


def _did_not_start(run, target: str, timeout: float | None) -> int:
    """The child died or was killed before the checks began: while importing the target (a loading
    error, exit 2) or in pe-spec's own start-up."""
    from pe_properties import limits

    from pe_spec.harness.supervisor import describe_exit

    inc = run.incident
    loading = run.impl is None
    where = f"loading {target}" if loading else "starting the checks"
    if inc is not None and inc.kind != "crash":
        what = (f"{where} exceeded the {limits.format_seconds(timeout or 0)} s time limit and the watchdog "
                f"killed the check process")
    else:
        what = f"{where} crashed the check process: it {describe_exit(run.returncode)}"
    print(f"pe-spec: {what}", file=sys.stderr)
    _print_tail(run)
    return EXIT_USAGE if loading else EXIT_NONCONFORMANT


def _repro(args) -> int:
    """Replay one example in this process (a crash or hang reproduces here, which is the point)."""
    from pe_properties import limits

    limits.configure(_call_timeout(args.call_timeout))
    impl = _load_or_exit(args.target)
    if impl is None:
        return EXIT_USAGE
    from hypothesis.errors import UnsatisfiedAssumption

    from pe_properties import engine, load_checks, outcomes
    from pe_spec.spec import registry
    from pe_spec.spec.contract import Unsupported

    checks = load_checks()
    if args.check_id not in checks:
        import difflib

        close = difflib.get_close_matches(args.check_id, list(checks), n=3, cutoff=0.5)
        print(f"pe-spec: unknown check {args.check_id!r}" + (f"; did you mean {' or '.join(close)}?" if close else
              f"; known: {', '.join(sorted(checks))}"), file=sys.stderr)
        return EXIT_USAGE
    try:
        ex = engine.Example.from_json(args.example)
    except (ValueError, TypeError, KeyError) as e:
        print(f"pe-spec: cannot read the example JSON: {e}", file=sys.stderr)
        return EXIT_USAGE
    family = registry.family_of(impl)
    try:
        family.config(**ex.config)
    except (TypeError, ValueError) as e:
        print(f"pe-spec: the example's config is not a {family.name} configuration: {e}", file=sys.stderr)
        return EXIT_USAGE
    reason = engine.skip_reason(checks[args.check_id], impl, ex.dtype)
    if reason:
        print(f"pe-spec: {args.check_id} does not run for {args.target} in {ex.dtype}: {reason}", file=sys.stderr)
        return EXIT_USAGE
    outcomes.TARGET = args.target
    try:
        engine.run_check(args.check_id, impl, ex)
    except (outcomes.ClauseViolation, limits.CallTimeout, limits.OutOfMemory) as e:
        print(str(e))
        return EXIT_NONCONFORMANT
    except outcomes.Skip as e:
        print(f"pe-spec: {args.check_id} does not run for this kernel: {e.reason}", file=sys.stderr)
        return EXIT_USAGE
    except (Unsupported, UnsatisfiedAssumption) as e:
        print(f"pe-spec: the factory reports this configuration unsupported{': ' + str(e) if str(e) else ''}",
              file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:   # the kernel's own exceptions are clause failures: this is the example's
        print(f"pe-spec: the example does not fit {args.check_id} ({type(e).__name__}: {e}); replay it with the "
              "check id its failure printed", file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.check_id}: holds for this example")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
