"""FAMILIES: the one list of encoding families every generic module iterates over.

Adding a family is adding its package here (docs/adding-a-family.md has the whole recipe); the
order is the order of reports, docs pages and tables.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from pe_spec.spec.family import Family

FAMILY_PACKAGES: tuple[str, ...] = (
    "pe_spec.families.rope",
    "pe_spec.families.sinusoidal",
)


def names() -> tuple[str, ...]:
    """Family names, without importing any family (the last part of each package name)."""
    return tuple(p.rpartition(".")[2] for p in FAMILY_PACKAGES)


@lru_cache(maxsize=1)
def families() -> tuple[Family, ...]:
    """Every family record, in registry order (importing a package registers its clauses)."""
    out = []
    for package in FAMILY_PACKAGES:
        record = getattr(importlib.import_module(package), "FAMILY", None)
        if not isinstance(record, Family):
            raise TypeError(f"{package} defines no FAMILY record (pe_spec.spec.family.Family)")
        if record.package != package or record.name != package.rpartition(".")[2]:
            raise ValueError(f"{package}: its FAMILY record says name={record.name!r}, package={record.package!r}")
        out.append(record)
    return tuple(out)


def get(name: str) -> Family:
    for f in families():
        if f.name == name:
            return f
    raise KeyError(f"unknown family {name!r}; pe-spec knows {', '.join(names())}")


def family_of(impl: Any) -> Family:
    """The record of an Implementation's family."""
    return get(impl.family)


def decorator_hints() -> str:
    """'@rope.implementation(layout=...) or @sinusoidal.implementation(convention=...)', for messages."""
    hints = [f.decorator_hint for f in families()]
    return ", ".join(hints[:-1]) + (" or " if len(hints) > 1 else "") + hints[-1]
