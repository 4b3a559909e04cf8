"""The hooks a family's publish module (``Family.publish``) may define, and how generic code finds them.

Every hook is optional: generic code looks it up by name and does without it.

    page_sections(ctx) -> list[str]         Markdown between the family page's intro and its
                                            clauses (default: the docstrings of its reference
                                            and symbolic modules)
    page_appendix(ctx) -> list[str]         Markdown after the family page's derivations
    tolerance_sections(ctx) -> list[str]    the family's worked example on tolerance.md
    failure_example() -> FailureExample     "Reading a failure" on index.md (the first family
                                            in registry order that has one)
    matrix_encoding(dim, seed) -> Encoding  the family's row of the property matrix
                                            (pe_spec.publish.matrix.Encoding, key = family name)
    matrix_encoding_2d(dim, seed) -> Encoding   its 2-D construction (default: a dim/2-channel
                                            1-D encoding per axis, concatenated)
    matrix_sections(ctx) -> list[str]       sections of property-matrix.md after the checks
    offset_curves(offsets, dim, base) -> list[OffsetCurve]   the family's curves on the
                                            dot-product-against-offset plot
    offset_caption(dim, base) -> str        what those curves are, for the plot's caption
    PLOTS: tuple[str, ...]                  the plots the family writes, relative to docs/
    plots(out_dir, plt) -> list[Path]       writes them (plt: matplotlib.pyplot, Agg backend)

``ctx`` is a ``pe_spec.publish.docs.common.Context``: the family, the property tests citing each
clause, and the derivation verdicts of this generation.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from pe_spec.spec import registry
from pe_spec.spec.family import Family


@dataclass(frozen=True)
class FailureExample:
    """A real check run on a deliberately buggy kernel, as the landing page shows it."""

    bug: str            # completes "This kernel ...", e.g. "stores its inverse frequencies in bf16"
    clause_id: str      # the clause it fails
    source: str         # the kernel's source
    message: str        # what the check reported
    where: str          # how the message locates the worst element, e.g. "row, sequence index, position"


@dataclass(frozen=True)
class OffsetCurve:
    """One curve of the dot-product-against-offset plot: the score at offset k over its value at k = 0."""

    tag: str            # tells a family's curves apart ("" for a single curve)
    label: str
    values: np.ndarray
    style: str = "-"
    color: str | None = None


def module(family: Family) -> ModuleType | None:
    return importlib.import_module(family.publish) if family.publish else None


def hook(family: Family, name: str) -> Any:
    """The family's hook called ``name``, or None when it has none."""
    mod = module(family)
    return getattr(mod, name, None) if mod is not None else None


def providers(name: str) -> list[tuple[Family, Any]]:
    """(family, hook) for every registered family defining the hook ``name``, in registry order."""
    found = [(f, hook(f, name)) for f in registry.families()]
    return [(f, h) for f, h in found if h is not None]
