"""Resolve a target string ('file.py:attr', 'module:attr', short alias) to an Implementation."""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

from pe_spec.adapters import MissingLibrary, module_for
from pe_spec.spec import registry
from pe_spec.spec.contract import Implementation

from . import limits

# Short names for implementations bundled with pe-spec: 'examples:rope_half_cached'; the
# third-party adapters add theirs ('transformers:llama', pe_spec.adapters.ADAPTERS).
ALIASES: dict[str, str] = {"examples": "pe_spec.examples"}


def resolve_module(where: str) -> str:
    """The module a target's 'where' part names, after short names."""
    return ALIASES.get(where) or module_for(where) or where


class LoadError(Exception):
    """A target that cannot be loaded; its message is one line meant for the user."""


def load(target: str) -> Implementation:
    """The implementation a target names. Importing it runs under the call time limit
    (pe_properties.limits), torch excepted: it is imported first, whatever the target imports."""
    import torch  # noqa: F401

    if ":" not in target:
        raise LoadError(f"target {target!r} must look like 'path/to/file.py:name' or 'package.module:name'")
    where, _, attr = target.rpartition(":")
    if not where or not attr:
        raise LoadError(f"target {target!r} must look like 'path/to/file.py:name' or 'package.module:name'")
    module = _load_file(where) if where.endswith(".py") or os.sep in where else _load_module(resolve_module(where))
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n in dir(module) if isinstance(getattr(module, n, None), Implementation))
            hint = f"; implementations there: {', '.join(names)}" if names else "; it defines no implementation"
            raise LoadError(f"{where} has no attribute {attr!r}{hint}")
        obj = getattr(obj, part)
    if not isinstance(obj, Implementation):
        raise LoadError(f"{target} is a {type(obj).__name__}, not an implementation: decorate its factory "
                        f"with {registry.decorator_hints()}")
    if not obj.target:
        obj.target = target
    private = f"{_FILE_MODULE}{Path(where).stem}:"
    if where.endswith(".py") and obj.name.startswith(private):   # the default name: the file's, not ours
        obj.name = f"{Path(where).name}:{obj.name[len(private):]}"
    return obj


_FILE_MODULE = "pe_target_"   # a target file is imported as pe_target_<stem>


_LOADED: dict[str, Implementation] = {}


def load_cached(target: str) -> Implementation:
    """load(target), once per process (a counterpart named by a target string is loaded on first
    use and its built functions are cached across examples)."""
    if target not in _LOADED:
        _LOADED[target] = load(target)
    return _LOADED[target]


def _load_file(path: str):
    p = Path(path).expanduser()
    if not p.is_file():
        raise LoadError(f"no such file: {path}")
    name = f"{_FILE_MODULE}{p.stem}"
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(p.resolve().parent))   # let the file import its siblings
    try:
        sys.modules[name] = module
        with limits.implementation_call("import"):
            spec.loader.exec_module(module)
    except SyntaxError as e:
        raise LoadError(f"syntax error in {path}, line {e.lineno}: {e.msg}") from None
    except limits.CallTimeout as e:
        raise LoadError(f"importing {path} exceeded the {limits.format_seconds(e.seconds)} s time limit") from None
    except SystemExit as e:
        raise LoadError(f"importing {path} called sys.exit({e.code!r})") from None
    except Exception as e:  # the user's module raised on import
        raise LoadError(f"importing {path} raised {type(e).__name__}: {_one_line(e)}") from None
    finally:
        sys.path.remove(str(p.resolve().parent))
    return module


def _load_module(name: str):
    sys.path.insert(0, os.getcwd())  # 'my_kernel:fn' should work from the current directory
    try:
        with limits.implementation_call("import"):
            return importlib.import_module(name)
    except limits.CallTimeout as e:
        raise LoadError(f"importing {name} exceeded the {limits.format_seconds(e.seconds)} s time limit") from None
    except SystemExit as e:
        raise LoadError(f"importing {name} called sys.exit({e.code!r})") from None
    except MissingLibrary as e:
        raise LoadError(str(e)) from None
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):
            raise LoadError(f"no module named {name!r}") from None
        raise LoadError(f"importing {name} raised ModuleNotFoundError: {e}") from None
    except SyntaxError as e:
        raise LoadError(f"syntax error in module {name}, {e.filename} line {e.lineno}: {e.msg}") from None
    except Exception as e:
        raise LoadError(f"importing {name} raised {type(e).__name__}: {_one_line(e)}") from None
    finally:
        sys.path.pop(0)


def _one_line(e: BaseException) -> str:
    """An exception's message on one line (loading errors are one line), shortened if long."""
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."
