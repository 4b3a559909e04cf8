"""Rotary position embeddings: reference, conventions, contract and clauses."""
from pe_spec.contract import Unsupported
from pe_spec.rope.contract import SCALINGS, Config, Implementation, implementation

__all__ = ["Config", "implementation", "Implementation", "Unsupported", "SCALINGS"]
