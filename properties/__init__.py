"""pe-spec property tests (installed as ``pe_properties``).

Run against an implementation with ``pytest --pyargs pe_properties --pe-impl FILE.py:NAME`` or
``pe-spec check FILE.py:NAME``. Each test cites the clause it checks.
"""

# The modules holding property tests; importing them registers their checks in harness.CHECKS.
PROPERTY_MODULES = ("test_rope", "test_sinusoidal", "test_impl")


def load_checks() -> dict:
    """Import every property module; return harness.CHECKS (check id -> Check)."""
    import importlib

    for name in PROPERTY_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    from .harness import CHECKS

    return CHECKS
