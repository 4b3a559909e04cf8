"""Adapters that plug third-party kernels into pe-spec through the public plug-in contract.

Each adapter module drives one library the way its users do (its own modules, caches and
position handling) and is reachable by a short name: ``pe-spec check transformers:llama``.
The libraries are optional extras (``pip install 'pe-spec[transformers]'``); a missing one is
a loading error naming the extra to install, never a silent skip.
"""
from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType


class MissingLibrary(ImportError):
    """The library an adapter drives is not installed; the message says which extra installs it."""


# short name -> (adapter module, pe-spec extra, distributions whose versions a report records)
ADAPTERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "transformers": ("pe_spec.adapters.transformers", "transformers", ("transformers",)),
    "torchtune": ("pe_spec.adapters.torchtune", "torchtune", ("torchtune", "torchao")),
    "rotary-embedding-torch": ("pe_spec.adapters.rotary_embedding_torch", "rotary-embedding-torch",
                               ("rotary-embedding-torch",)),
    "liger": ("pe_spec.adapters.liger", "liger", ("liger-kernel", "triton", "transformers")),
}
# Also accepted: the import name of the library.
ALIASES: dict[str, str] = {"rotary_embedding_torch": "rotary-embedding-torch", "liger_kernel": "liger"}


def require(module: str, extra: str) -> ModuleType:
    """Import a third-party module, or fail with the one line that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingLibrary(f"this adapter needs {module} ({type(e).__name__}: {e}); "
                             f"install it with: pip install 'pe-spec[{extra}]'") from None


def distribution_versions(names: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the given distributions (default: every adapter's), 'absent' if not installed."""
    names = names or tuple(dict.fromkeys(d for _, _, dists in ADAPTERS.values() for d in dists))
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def module_for(short_name: str) -> str | None:
    """The adapter module behind a short name ('transformers', 'liger', ...), or None."""
    entry = ADAPTERS.get(ALIASES.get(short_name, short_name))
    return entry[0] if entry else None
