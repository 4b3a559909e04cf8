"""The clause registry: every normative statement of pe-spec, with a stable semantic ID.

IDs are never reused or renumbered; a retired clause stays in the registry with
``retired=True``. docs/ is generated from this registry (``pe_spec.docs``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

Level = Literal["MUST", "SHOULD"]


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    level: Level
    since: str
    statement: str          # the one normative sentence
    math: str               # the property in plain-text math
    rationale: str          # why the property holds for the reference (the derivation)
    guards_against: str     # the real-world bugs it catches
    references: tuple[str, ...] = ()
    derivation: str | None = None   # dotted name of the sympy derivation proving it, if any
    retired: bool = False

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]


_REGISTRY: dict[str, Clause] = {}


def register(*clauses: Clause) -> None:
    for c in clauses:
        if c.id in _REGISTRY and _REGISTRY[c.id] != c:
            raise ValueError(f"clause id {c.id!r} registered twice with different content")
        _REGISTRY[c.id] = c


def _load_all() -> None:
    # Importing a family module registers its clauses; keep this list in one place.
    from pe_spec import impl_clauses  # noqa: F401
    from pe_spec.rope import clauses as _rope  # noqa: F401
    from pe_spec.sinusoidal import clauses as _sinusoidal  # noqa: F401


def all_clauses() -> list[Clause]:
    _load_all()
    # Families in a fixed order, clauses in registration order (the order they are specified in).
    order = {"rope": 0, "sinusoidal": 1, "impl": 2, "device": 3}
    return sorted(_REGISTRY.values(), key=lambda c: (order.get(c.family, len(order)), c.family))


def get(clause_id: str) -> Clause:
    _load_all()
    try:
        return _REGISTRY[clause_id]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown clause {clause_id!r}; known clauses: {known}") from None


def ids(families: Iterable[str] | None = None) -> list[str]:
    fams = set(families) if families is not None else None
    return [c.id for c in all_clauses() if fams is None or c.family in fams]
