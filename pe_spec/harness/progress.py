"""What `pe-spec check` prints while it runs, and its last lines.

It follows the events of the check process (pe_spec.harness.supervisor): a header once the
implementation is loaded, one line per clause as soon as all its tests are done (with --verbose,
each failure whole the moment its test ends), and at the end, read from the verdict object
(pe_spec.harness.report): the diagnosis, one block per failing clause, most specific first, notes
on what the implementation printed, and the verdict line (always last).
"""
from __future__ import annotations

import shutil
import time
from collections import Counter
from typing import TextIO

from pe_spec.harness.render import diagnosis_lines, failure_blocks, output_notes, regimes_line, verdict_line


class Progress:
    def __init__(self, out: TextIO, *, quiet: bool = False, target: str = "", profile: str = "",
                 verbose: bool = False) -> None:
        self.out, self.quiet, self.verbose = out, quiet, verbose
        self.width = max(80, shutil.get_terminal_size((120, 24)).columns)
        self.target, self.profile = target, profile
        self._started = time.time()
        self._pending: Counter = Counter()
        self._clauses: list[str] = []
        self._results: dict[str, list] = {}
        self._shown: set[str] = set()

    def _print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, run, ev: dict) -> None:
        """Supervisor callback: one event of the check process."""
        kind = ev.get("ev")
        if kind == "loaded":
            self.start(ev["impl"])
        elif kind == "collected":
            for item in ev["items"]:
                self._pending[item["clause_id"]] += 1
                if item["clause_id"] not in self._clauses:
                    self._clauses.append(item["clause_id"])
        elif kind == "result":
            self.result(ev["result"])

    def start(self, impl: dict) -> None:
        from pe_spec import SPEC_VERSION

        if not self.quiet:
            decl = ", ".join(f"{k}={v}" for k, v in impl["declared"].items())
            self._print(f"pe-spec {SPEC_VERSION}: checking {self.target} ({impl['family']}: {decl}), "
                        f"profile {self.profile}")

    def result(self, result: dict) -> None:
        from pe_spec.harness.report import TestResult, aggregate

        cid = result["clause_id"]
        if result["status"] in ("fail", "error") and self.verbose:
            self._failure(result)
        self._results.setdefault(cid, []).append(TestResult(**result))
        self._pending[cid] -= 1
        if self._pending[cid] > 0 or self.quiet or cid not in self._clauses:
            return
        (clause,) = aggregate(self._results[cid])
        n = self._clauses.index(cid) + 1
        ratio = f"worst {clause.worst_ratio:.3g} of allowed; " if clause.worst_ratio is not None else ""
        bad = [t.dtype or "-" for t in clause.tests if t.status in ("fail", "error")]
        detail = f"in {', '.join(bad)}" if bad else (clause.detail.splitlines()[0] if clause.detail else "")
        line = f"  [{n:>2}/{len(self._clauses)}] {cid:<26} {clause.status.upper():<5} {ratio}{detail}"
        self._print(_fit(line, self.width))

    def _failure(self, result: dict) -> None:
        self._shown.add(result["nodeid"])
        self._print(f"\n{result['nodeid']}  ({result['status']})")
        self._print(result["message"])
        self._print()

    def finish(self, report: dict) -> None:
        """The end of the output: the diagnosis, one block per failing clause (most specific first),
        notes on what the implementation printed, the regimes and the verdict line (always last).
        With --verbose every failure was printed whole as its test ended; an incident's failure
        (which the check process could not send) is printed whole here."""
        for t in (t for c in report["clauses"] for t in c["tests"]):
            if t["status"] in ("fail", "error") and t["nodeid"] not in self._shown and (self.verbose or
                                                                                      report.get("incident")):
                self._failure(t)
        diagnosis = diagnosis_lines(report)
        if diagnosis:
            self._print()
            for line in diagnosis:
                self._print(line)
        for block in failure_blocks(report):
            self._print()
            for line in block:
                self._print(line)
        # After an incident the failure message already holds the output's tail.
        notes = [] if self.quiet or report.get("incident") else output_notes(report)
        if notes:
            self._print()
            for line in notes:
                self._print(line)
        if not self.quiet:
            self._print()
            if report.get("regimes"):
                self._print(regimes_line(report))
        self._print(f"{verdict_line(report)}  [{time.time() - self._started:.1f}s]")


def _fit(line: str, width: int) -> str:
    """A progress line cut to the terminal's width at a word boundary (never inside a number)."""
    if len(line) <= width:
        return line
    cut = line.rfind(" ", 0, width - 4)
    return line[: cut if cut > 0 else width - 4].rstrip(";, ") + " ..."
