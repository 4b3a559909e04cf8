"""The Family record: everything pe-spec knows about one kind of positional encoding, in one place.

Generic code (CLI, loading, plugin, engine, reports, docs, conformance table, property matrix)
reads these records from ``pe_spec.spec.registry`` and never names a family. A record points to
the floors above the specification (property tests, publishing extras) by module name only, so
the specification imports neither of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Family:
    name: str                       # the family's clause prefix and `pe_spec.<name>` public module
    title: str                      # a page title, e.g. "RoPE: rotary position embeddings"
    summary: str                    # one sentence for indexes and help texts
    package: str                    # its spec package: contract, reference, clauses, examples
    config: type                    # the Config dataclass handed to a factory
    implementation: Callable[..., Any]  # the decorator: <name>.implementation(**declarations)
    declarations: Mapping[str, str]     # declaration -> meaning (what the decorator accepts)
    required: str                   # the declaration every kernel must make ('layout', 'convention')
    signature: str                  # the function under test, e.g. "fn(x, positions) -> like x"
    reference: str                  # module of the float64 reference
    symbolic: str | None            # module of the sympy derivations (needs the 'spec' extra)
    examples: str                   # module of the bundled correct kernels
    properties: str                 # pe_properties module: the family's Case, strategies and tests
    publish: str | None = None      # pe_spec.publish module with the family's page sections, plots
    page: str = ""                  # its docs page (default "<name>.md")
    # What a universal clause (impl.*, device.*) means for this family, where that differs from
    # its generic statement, and the universal clauses that cannot apply to it (with why).
    universal: Mapping[str, str] = field(default_factory=dict)
    not_applicable: Mapping[str, str] = field(default_factory=dict)
    # The input regimes (pe_spec.spec.regimes) its kernels cannot meet, with why: reported as such.
    regimes_not_applicable: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from pe_spec.spec import regimes

        for name in self.regimes_not_applicable:
            regimes.get(name)   # a typo fails at import time
        if not self.page:
            object.__setattr__(self, "page", f"{self.name}.md")
        overlap = set(self.universal) & set(self.not_applicable)
        if overlap:
            raise ValueError(f"family {self.name}: {sorted(overlap)} both have a meaning and are not applicable")

    @property
    def decorator_hint(self) -> str:
        """How a factory is declared, for messages: '@rope.implementation(layout=...)'."""
        return f"@{self.name}.implementation({self.required}=...)"
