"""What `pe-spec check` prints while it runs, and its last lines.

It follows the events of the check process (pe_spec.harness.supervisor): a header once the
implementation is loaded, each failure the moment its test ends (so a user reads the first
counterexample while the rest still runs), one line per clause as soon as all its tests are done,
and at the end notes on what the implementation printed and the verdict line (always last),
read from the verdict object (pe_spec.harness.report).
"""
from __future__ import annotations

import time
from collections import Counter
from typing import TextIO

from pe_spec.harness.render import output_notes, regimes_line, verdict_line


class Progress:
    def __init__(self, out: TextIO, *, quiet: bool = False, target: str = "", profile: str = "") -> None:
        self.out, self.quiet = out, quiet
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
        if result["status"] in ("fail", "error"):
            self._failure(result)
        self._results.setdefault(cid, []).append(TestResult(**result))
        self._pending[cid] -= 1
        if self._pending[cid] > 0 or self.quiet or cid not in self._clauses:
            return
        (clause,) = aggregate(self._results[cid])
        n = self._clauses.index(cid) + 1
        ratio = f"worst {clause.worst_ratio:.3g} of allowed; " if clause.worst_ratio is not None else ""
        detail = clause.detail.splitlines()[0] if clause.detail else ""
        self._print(f"  [{n:>2}/{len(self._clauses)}] {cid:<26} {clause.status.upper():<5} {ratio}{detail}")

    def _failure(self, result: dict) -> None:
        self._shown.add(result["nodeid"])
        self._print(f"\n{result['nodeid']}  ({result['status']})")
        self._print(result["message"])
        self._print()

    def finish(self, report: dict) -> None:
        """The end of the output: failures the check process did not send as results (an incident),
        notes on what the implementation printed, the verdict line."""
        for t in (t for c in report["clauses"] for t in c["tests"]):
            if t["status"] in ("fail", "error") and t["nodeid"] not in self._shown:
                self._failure(t)
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
