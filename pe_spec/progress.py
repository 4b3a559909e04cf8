"""Clause-by-clause progress and the final summary printed by `pe-spec check`."""
from __future__ import annotations

import time
from collections import Counter
from typing import TextIO

import pytest


class Progress:
    """A pytest plugin object: prints one line per clause as soon as all its tests are done."""

    def __init__(self, out: TextIO, *, quiet: bool = False) -> None:
        self.out, self.quiet = out, quiet
        self.report: dict | None = None
        self._started = time.time()
        self._pending: Counter = Counter()
        self._clauses: list[str] = []
        self._config: pytest.Config | None = None

    def _print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def start(self, impl, target: str, profile: str) -> None:
        from pe_spec import SPEC_VERSION

        if not self.quiet:
            decl = ", ".join(f"{k}={v}" for k, v in impl.declared.items())
            self._print(f"pe-spec {SPEC_VERSION}: checking {target} ({impl.family}: {decl}), profile {profile}")

    def pytest_configure(self, config: pytest.Config) -> None:
        self._config = config

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("clause")
            if marker:
                self._pending[marker.args[0]] += 1
                if marker.args[0] not in self._clauses:
                    self._clauses.append(marker.args[0])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from pe_spec.pytest_plugin import active

        state = active(self._config) if self._config else None
        if state is None or not state["results"] or state["results"][-1].nodeid != report.nodeid:
            return
        if report.when not in ("call", "setup") or (report.when == "setup" and report.passed):
            return
        cid = state["results"][-1].clause_id
        self._pending[cid] -= 1
        if self._pending[cid] or self.quiet:
            return
        from pe_spec.report import aggregate

        (clause,) = aggregate([r for r in state["results"] if r.clause_id == cid])
        n = self._clauses.index(cid) + 1
        ratio = f"worst {clause.worst_ratio:.3g} of allowed; " if clause.worst_ratio is not None else ""
        self._print(f"  [{n:>2}/{len(self._clauses)}] {cid:<26} {clause.status.upper():<5} "
                    f"{ratio}{clause.detail.splitlines()[0][:160]}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from pe_spec.pytest_plugin import active

        state = active(session.config)
        if state is not None:
            self.report = state.get("report")

    def finish(self, report: dict) -> None:
        from pe_spec.report import verdict_line

        failures = [t for c in report["clauses"] for t in c["tests"] if t["status"] in ("fail", "error")]
        if failures:
            self._print("\nFailures:")
            for t in failures:
                self._print(f"\n{t['nodeid'].split('::')[-1]}  ({t['status']})")
                self._print(t["message"])
        if failures or not self.quiet:
            self._print()
        self._print(f"{verdict_line(report)}  [{time.time() - self._started:.1f}s]")
