"""pe-spec: a property-based conformance suite for positional-encoding kernels."""
from pe_spec.spec.contract import ContractError, Implementation, Unsupported

__version__ = "0.1.0"
SPEC_VERSION = "2026.1"

__all__ = ["__version__", "SPEC_VERSION", "Implementation", "Unsupported", "ContractError"]


def __getattr__(name: str):
    # `from pe_spec import rope` (any registered family) without importing every family up front.
    import importlib

    from pe_spec.spec import registry

    if name in registry.names():
        return importlib.import_module(registry.FAMILY_PACKAGES[registry.names().index(name)])
    raise AttributeError(f"module 'pe_spec' has no attribute {name!r}")


def __dir__() -> list[str]:
    from pe_spec.spec import registry

    return sorted([*globals(), *registry.names()])
