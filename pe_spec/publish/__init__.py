"""Publishing: the generated docs (one module per page), the conformance table and the property
matrix. Reads the specification, the property tests and reports; nothing below reads it.

Generic modules here never name a family: what only one family publishes (a page section, a
worked example, a plot, a matrix row) is in its publish module (``Family.publish``, under
``pe_spec.publish.families``), reached through the registry.
"""
from pathlib import Path

# The repository's docs/ (generated pages, conformance table, plots), wherever pe_spec is imported from.
DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
