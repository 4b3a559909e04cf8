"""pe-spec property tests (installed as ``pe_properties``) and the engine that runs them.

Run against an implementation with ``pe-spec check FILE.py:NAME`` or ``pytest --pyargs
pe_properties --pe-impl FILE.py:NAME``. Each test cites the clause it checks; the universal
ones (test_universal.py) run for every family, each family's own are in its package (named by
its Family record's ``properties``).
"""
from __future__ import annotations


def property_modules() -> list[str]:
    """Every module holding property tests: the universal ones, then each family's test modules."""
    import importlib
    import pkgutil

    from pe_spec.spec import registry

    out = [f"{__name__}.test_universal"]
    for family in registry.families():
        package = importlib.import_module(family.properties)
        out += [f"{family.properties}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                if m.name.startswith("test_")]
    return out


def load_checks() -> dict:
    """Import every property module; return engine.CHECKS (check id -> Check)."""
    import importlib

    for name in property_modules():
        importlib.import_module(name)
    from .engine import CHECKS

    return CHECKS
