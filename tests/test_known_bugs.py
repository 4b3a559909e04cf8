"""The suite against known-buggy kernels of every family: each bug is caught, by the clauses its
row expects, and the clauses whose property holds for it pass.

Rows and how they are judged: tests/known_bug_table.py. Every row is judged in this process on
its named clauses (main, fails, must_pass), through the same clause engine and seeds as
`pe-spec check`; one row per family also gets a complete `pe-spec check` in a fresh interpreter,
where nothing outside fails and incidental may fail. That every-clause guarantee for every row is
docs/known-bugs-matrix.json (`python tests/known_bug_matrix.py`, a full check per row): the tests
below require that it covers every row, that it agrees with every row, and that the full checks
run here reproduce it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import known_bug_table as T

MATRIX_JSON = T.REPO / "docs" / "known-bugs-matrix.json"
MATRIX_MD = T.REPO / "docs" / "known-bugs-matrix.md"
# Rows each family's table must have at least.
MINIMUM_ROWS = {"rope": 16, "sinusoidal": 8}


@pytest.mark.parametrize("family,module", T.rows(), ids=[f"{f}/{m}" for f, m in T.rows()])
def test_known_bug_fails_its_clauses_and_passes_the_others(family: str, module: str) -> None:
    T.judge_in_process(family, module)


def full_check_rows() -> list[tuple[str, str]]:
    """The row of each family that gets a complete `pe-spec check` here (the first in its table):
    the subprocess route, every clause, the report file, the exit status."""
    return [(f, next(iter(T.table(f)))) for f in T.families()]


@pytest.mark.parametrize("family,module", full_check_rows(), ids=[f"{f}/{m}" for f, m in full_check_rows()])
def test_full_check_of_a_known_bug_matches_its_row_and_the_matrix(family: str, module: str, tmp_path: Path) -> None:
    proc, report = T.full_report(family, module, tmp_path)
    T.judge_report(family, module, report, proc.returncode)
    published = _matrix()["rows"][f"{family}/{module}"]["clauses"]
    fresh = {c["id"]: c["status"] for c in report["clauses"]}
    assert fresh == {cid: c["status"] for cid, c in published.items()}, (
        f"{family}/{module}: a fresh check disagrees with docs/known-bugs-matrix.json; regenerate it with "
        f"python tests/known_bug_matrix.py --only {family}/{module}")


@pytest.mark.parametrize("family", T.families())
def test_table_covers_every_module_and_names_clauses_of_its_family(family: str) -> None:
    T.check_table(family, minimum=MINIMUM_ROWS.get(family, 1))


def test_every_registered_family_has_known_bugs() -> None:
    from pe_spec.spec import registry

    assert T.families() == list(registry.names()), "families without tests/known_bugs/<family>/"


@pytest.mark.parametrize("family,module", T.rows(), ids=[f"{f}/{m}" for f, m in T.rows()])
def test_known_bug_docstring_names_its_clauses(family: str, module: str) -> None:
    T.check_docstring(family, module)


def _matrix() -> dict:
    assert MATRIX_JSON.exists(), "docs/known-bugs-matrix.json missing: python tests/known_bug_matrix.py"
    return json.loads(MATRIX_JSON.read_text())


def test_matrix_covers_every_row_and_renders_from_its_json() -> None:
    import known_bug_matrix

    matrix = _matrix()
    assert list(matrix["rows"]) == [f"{f}/{m}" for f, m in T.rows()], \
        "docs/known-bugs-matrix.json is stale (a row was added, removed or renamed): python tests/known_bug_matrix.py"
    assert MATRIX_MD.read_text() == known_bug_matrix.render(matrix), \
        "docs/known-bugs-matrix.md differs from its JSON: python tests/known_bug_matrix.py"


@pytest.mark.parametrize("family,module", T.rows(), ids=[f"{f}/{m}" for f, m in T.rows()])
def test_every_row_agrees_with_the_full_matrix(family: str, module: str) -> None:
    """The published full check of the row: every required clause fails, nothing outside fails
    and incidental does, every must_pass clause passes (the full guarantee, judged on the matrix)."""
    row = _matrix()["rows"][f"{family}/{module}"]
    report = {"clauses": [{"id": cid, **c, "tests": []} for cid, c in row["clauses"].items()],
              "environment": {"devices": row["devices"]}}
    T.judge_report(family, module, report, returncode=None)


@pytest.mark.slow_tier
@pytest.mark.parametrize("family,module", full_check_rows(), ids=[f"{f}/{m}" for f, m in full_check_rows()])
def test_compiled_failures_replay_in_a_fresh_compilation(family: str, module: str) -> None:
    """impl.compile's printed examples reproduce when compiled afresh, as `pe-spec repro` compiles them
    in a new process (the in-process judge replays every other clause's failures of every row)."""
    from pe_properties import engine, outcomes

    from pe_spec.harness.profiles import run_settings

    assert "impl.compile" in T.table(family)[module].fails
    outcomes.TARGET = f"{T.kernel_file(family, module)}:kernel"
    by_id = T.statuses_of(engine.run(T.kernel(family, module), run_settings("ci"), ["impl.compile"]))
    assert by_id["impl.compile"].status == "fail"
    T.replay_failures(family, module, by_id)
