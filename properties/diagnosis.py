"""The diagnosis a failing check opens with: what is most likely wrong, from the evidence only.

Two sources, in this order:

- the family's probe (``<family properties package>.diagnosis.diagnose(impl)``, optional), which
  calls the kernel on inputs built to expose its frequencies, layout and positions and names only
  what its outputs show exactly;
- the failing clauses whose statement is itself the diagnosis (the kernel writes into its input,
  returns an alias, is not deterministic, returns the wrong dtype or shape, is wrong only in some
  ambient setting), read from their results.

When neither says anything, the diagnosis says so and points at the most specific failing clause.
"""
from __future__ import annotations

import importlib
from typing import Iterable

from pe_spec.spec import clauses, registry
from pe_spec.spec.contract import Implementation

from . import limits
from .engine import TestResult

# Failing clauses that name the cause themselves, with the words for it.
SELF_EVIDENT = {
    "impl.no-mutation": "it writes into its input",
    "impl.no-aliasing": "its output shares memory with an input or with its own cache",
    "impl.determinism": "two calls with equal inputs return different outputs",
    "impl.dtype-shape": "its output has the wrong dtype, shape or device",
    "impl.batch-independence": "a row's output depends on the other rows of the call",
    "impl.stride-invariance": "its output depends on the memory layout of its input (strides, views)",
}
# Ambient-only failures: right on plain calls, wrong in this setting alone.
AMBIENT = {"impl.environment": "under the ambient precision settings (autocast, a bf16 default dtype)",
           "impl.compile": "under torch.compile"}


def broad(clause_id: str, family: str) -> bool:
    """A clause every wrong value fails (it re-checks against the reference): the least specific."""
    return clause_id in (f"{family}.reference", "impl.environment", "impl.compile", f"{family}.gradient")


def ordered_failures(results: Iterable[TestResult], family: str) -> list[str]:
    """The failing clauses, most specific first: the property clauses in registry order, then the
    clauses that re-check the output against the reference."""
    failing = list(dict.fromkeys(r.clause_id for r in results if r.status in ("fail", "error")))
    rank = {cid: n for n, cid in enumerate(clauses.ids())}
    return sorted(failing, key=lambda cid: (broad(cid, family), rank.get(cid, len(rank))))


def diagnose(impl: Implementation, results: list[TestResult]) -> list[dict]:
    """[{"cause", "evidence", "source"}], the likeliest cause first; [] when nothing failed."""
    failing = ordered_failures(results, impl.family)
    if not failing:
        return []
    if limits.hung:
        return [{"cause": f"it hangs: {limits.hung}", "evidence": "the rest of the check was not run (the kernel had "
                 "hung), so nothing else is known", "source": failing[0]}]
    probed = _probe(impl)
    out = [{**f, "source": "probe"} for f in probed or []]
    for cid in failing:
        if cid in SELF_EVIDENT:
            first = next(r for r in results if r.clause_id == cid and r.status in ("fail", "error"))
            out.append({"cause": SELF_EVIDENT[cid], "evidence": f"{cid}: {_what(first)}", "source": cid})
    plain = [cid for cid in failing if cid not in AMBIENT]
    if not plain and not out:
        where = " and ".join(AMBIENT[cid] for cid in failing)
        out.append({"cause": f"it is right on plain calls and wrong only {where}",
                    "evidence": "every other clause holds", "source": failing[0]})
    if not out:
        first = failing[0]
        why = ("the probe finds it right on plain inputs (float32, positions up to its cache's end): it is wrong only "
               "in the regime of its failing clauses" if probed is not None else
               "the probe could not run it on plain inputs")
        out.append({"cause": f"no single cause is read from its outputs; {why}; the most specific failing clause is "
                             f"{first}",
                    "evidence": _what(next(r for r in results if r.clause_id == first and r.status in ("fail", "error"))),
                    "source": first})
    return out


def _probe(impl: Implementation) -> list[dict] | None:
    """The family probe's findings, or None when there is none or it could not run."""
    if limits.exhausted():   # it hung, or used up the memory or the time budget: no more calls
        return None
    package = registry.family_of(impl).properties
    try:
        module = importlib.import_module(f"{package}.diagnosis")
    except ModuleNotFoundError:
        return None
    limits.reset()
    try:
        return module.diagnose(impl)
    except (limits.CallTimeout, limits.BudgetSpent):
        return None
    except Exception:   # the kernel's output defeats the probe (a dtype it cannot read): no probe finding
        return None


def _what(result: TestResult) -> str:
    if result.failure.get("what"):
        return result.failure["what"]
    lines = [l.strip() for l in result.message.splitlines()]
    return lines[1] if len(lines) > 1 and lines[0].startswith("[") else (lines[0] if lines else "")
