"""The clause registry: every normative statement of pe-spec, with a stable semantic ID.

IDs are never reused or renumbered; a retired clause stays in the registry with
``retired=True``. A clause applies either to one family (``applies_to=(name,)``, its ID starting
with the family's name) or to every family (``applies_to=()``, the universal ``impl.*`` and
``device.*`` clauses, whose meaning per family each family record states). docs/ is generated
from this registry (``pe_spec.publish.docs``).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Iterable, Literal

Level = Literal["MUST", "SHOULD"]
# ID prefixes of the clauses every family must meet.
UNIVERSAL_PREFIXES: tuple[str, ...] = ("impl", "device")


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
    applies_to: tuple[str, ...] = ()  # the family it belongs to; () = every family (set by register)

    @property
    def prefix(self) -> str:
        """The part of the ID before the first dot: a family's name, 'impl' or 'device'."""
        return self.id.split(".", 1)[0]

    @property
    def universal(self) -> bool:
        return not self.applies_to

    def applies(self, family: str) -> bool:
        return self.universal or family in self.applies_to


_REGISTRY: dict[str, Clause] = {}


def register(*clauses: Clause, family: str | None = None) -> None:
    """Register clauses of one family (``family=name``: their IDs start with ``name.``) or, with
    ``family=None``, universal clauses (IDs starting with one of UNIVERSAL_PREFIXES)."""
    for c in clauses:
        expected = (family,) if family else UNIVERSAL_PREFIXES
        if c.prefix not in expected:
            raise ValueError(f"clause id {c.id!r} must start with one of {', '.join(p + '.' for p in expected)}")
        c = replace(c, applies_to=(family,) if family else ())
        if c.id in _REGISTRY and _REGISTRY[c.id] != c:
            raise ValueError(f"clause id {c.id!r} registered twice with different content")
        _REGISTRY[c.id] = c


def _load_all() -> None:
    # The universal clauses, and every registered family (importing a family registers its clauses).
    from pe_spec.spec import registry, universal  # noqa: F401

    registry.families()


def all_clauses() -> list[Clause]:
    """Every clause: each family's in registry order, then the universal ones; within a group, in
    registration order (the order they are specified in)."""
    _load_all()
    from pe_spec.spec import registry

    groups = [f.name for f in registry.families()] + list(UNIVERSAL_PREFIXES)
    rank = {g: n for n, g in enumerate(groups)}
    return sorted(_REGISTRY.values(), key=lambda c: rank.get(c.prefix, len(rank)))


def get(clause_id: str) -> Clause:
    """The clause with this ID; an unknown ID raises KeyError naming the closest known ones."""
    _load_all()
    try:
        return _REGISTRY[clause_id]
    except KeyError:
        close = difflib.get_close_matches(clause_id, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(close)}?" if close else "; `pe-spec list` prints every clause"
        raise KeyError(f"unknown clause {clause_id!r}{hint}") from None


def ids(families: Iterable[str] | None = None) -> list[str]:
    """Clause IDs, all of them or those whose prefix is one of ``families`` (a family's name,
    'impl', 'device')."""
    fams = set(families) if families is not None else None
    return [c.id for c in all_clauses() if fams is None or c.prefix in fams]


def applicable(family: str) -> list[Clause]:
    """The clauses a kernel of ``family`` is checked against, in report order."""
    return [c for c in all_clauses() if c.applies(family) and not c.retired]
