"""Sinusoidal absolute position encodings: named conventions, reference, contract, clauses."""
from pe_spec.contract import Unsupported
from pe_spec.sinusoidal.contract import Config, Implementation, implementation

__all__ = ["Config", "implementation", "Implementation", "Unsupported"]
