"""Correct kernels bundled with pe-spec, one module per family (each Family record's ``examples``):
what README command 1 checks (``pe-spec check examples:rope_half_cached``) and what the suite's
own tests require to pass every clause. ``examples:NAME`` names any of them."""
from __future__ import annotations

import importlib

from pe_spec.spec import registry
from pe_spec.spec.contract import Implementation


def bundled() -> dict[str, Implementation]:
    """name -> implementation, family by family in registry order, each module in definition order."""
    out: dict[str, Implementation] = {}
    for family in registry.families():
        module = importlib.import_module(family.examples)
        for name, obj in vars(module).items():
            if isinstance(obj, Implementation):
                if name in out:
                    raise ValueError(f"two bundled kernels are named {name!r}")
                out[name] = obj
    return out


def __getattr__(name: str) -> Implementation:
    kernels = bundled()
    if name in kernels:
        return kernels[name]
    raise AttributeError(f"no bundled kernel {name!r}; bundled: {', '.join(kernels)}")


def __dir__() -> list[str]:
    return sorted(bundled())
