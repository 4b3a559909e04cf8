"""Clause-by-clause progress and the final summary printed by `pe-spec check`.

It follows the events of the check process (pe_spec.supervisor): a header once the
implementation is loaded, one line per clause as soon as all its tests are done, and at the end
the failures, notes on what the implementation printed, and the verdict line (always last).
"""
from __future__ import annotations

import time
from collections import Counter
from typing import TextIO


class Progress:
    def __init__(self, out: TextIO, *, quiet: bool = False, target: str = "", profile: str = "") -> None:
        self.out, self.quiet = out, quiet
        self.target, self.profile = target, profile
        self._started = time.time()
        self._pending: Counter = Counter()
        self._clauses: list[str] = []
        self._results: dict[str, list] = {}

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
        from pe_spec.report import TestResult, aggregate

        cid = result["clause_id"]
        self._results.setdefault(cid, []).append(TestResult(**result))
        self._pending[cid] -= 1
        if self._pending[cid] > 0 or self.quiet or cid not in self._clauses:
            return
        (clause,) = aggregate(self._results[cid])
        n = self._clauses.index(cid) + 1
        ratio = f"worst {clause.worst_ratio:.3g} of allowed; " if clause.worst_ratio is not None else ""
        detail = clause.detail.splitlines()[0][:160] if clause.detail else ""
        self._print(f"  [{n:>2}/{len(self._clauses)}] {cid:<26} {clause.status.upper():<5} {ratio}{detail}")

    def finish(self, report: dict) -> None:
        from pe_spec.report import output_notes, verdict_line

        failures = [t for c in report["clauses"] for t in c["tests"] if t["status"] in ("fail", "error")]
        if failures:
            self._print("\nFailures:")
            for t in failures:
                self._print(f"\n{t['nodeid'].split('::')[-1]}  ({t['status']})")
                self._print(t["message"])
        # After an incident the failure message already holds the output's tail.
        notes = [] if self.quiet or report.get("incident") else output_notes(report)
        if notes:
            self._print()
            for line in notes:
                self._print(line)
        if failures or not self.quiet:
            self._print()
        self._print(f"{verdict_line(report)}  [{time.time() - self._started:.1f}s]")
