"""What every plugged-in implementation is, whatever its family (the plug-in contract, v0)."""
from __future__ import annotations

from typing import Any, Callable, Mapping


class Unsupported(Exception):
    """Raise from a factory for a configuration the kernel does not support.

    The suite then draws another configuration and reports how many it had to skip; any other
    exception from the factory is a failure of the clause being checked.
    """


class ContractError(TypeError):
    """The object plugged in does not honour the contract (bad declaration, bad return type)."""


class Implementation:
    """A factory decorated with ``<family>.implementation(...)``.

    ``declared`` holds only what the author declared; anything missing is drawn by the suite
    from the family's full space. Built functions are cached per configuration (the factory is
    called once per configuration the suite draws), least recently used first out beyond
    CACHE_SIZE, so kernels holding tables sized by max_position do not accumulate them.
    """

    CACHE_SIZE = 16   # above the 12-config pool properties/strategies.py draws most examples from

    def __init__(self, family: str, factory: Callable[[Any], Callable], name: str,
                 declared: Mapping[str, Any] | None = None) -> None:
        self.family = family
        self.factory = factory
        self.name = name
        self.declared = dict(declared or {})
        self.__doc__ = getattr(factory, "__doc__", None)
        self.__wrapped__ = factory
        self._cache: dict = {}

    def __repr__(self) -> str:
        return f"<{self.family} implementation {self.name} {self.declared}>"

    def __call__(self, cfg: Any) -> Callable:
        return self.factory(cfg)

    def build(self, cfg: Any) -> Callable:
        """The function under test for cfg, built once and cached (Unsupported propagates)."""
        cache = self._cache
        if cfg in cache:
            cache[cfg] = cache.pop(cfg)   # most recently used last
            return cache[cfg]
        fn = self.factory(cfg)
        if not callable(fn):
            raise ContractError(
                f"{self.name}: the factory must return a callable fn(x, positions), got {type(fn).__name__}")
        cache[cfg] = fn
        while len(cache) > self.CACHE_SIZE:
            del cache[next(iter(cache))]
        return fn

    def get(self, key: str, default: Any = None) -> Any:
        return self.declared.get(key, default)


def make_decorator(family: str, validate: Callable[[dict], dict]) -> Callable[..., Callable]:
    """Build ``<family>.implementation(**declaration)`` for a family with its own validator."""

    def implementation(**declaration: Any) -> Callable[[Callable], Implementation]:
        checked = validate(dict(declaration))

        def wrap(factory: Callable) -> Implementation:
            if isinstance(factory, Implementation):
                raise ContractError("implementation(...) applied twice")
            if not callable(factory):
                raise ContractError(f"@{family}.implementation must decorate a factory function")
            impl = Implementation(family, factory, name=checked.pop("name", None) or _qualname(factory),
                                  declared=checked)
            return impl

        return wrap

    return implementation


def _qualname(fn: Callable) -> str:
    mod = getattr(fn, "__module__", None) or "?"
    return f"{mod}:{getattr(fn, '__qualname__', repr(fn))}"
