"""pe-spec: a property-based conformance suite for positional-encoding kernels."""
from pe_spec.contract import ContractError, Implementation, Unsupported

__version__ = "0.1.0"
SPEC_VERSION = "2026.1"

__all__ = ["__version__", "SPEC_VERSION", "Implementation", "Unsupported", "ContractError", "rope"]


def __getattr__(name: str):
    # `from pe_spec import rope` without importing every family up front.
    if name == "rope":
        import importlib

        return importlib.import_module("pe_spec.rope")
    raise AttributeError(name)
