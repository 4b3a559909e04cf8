"""What every plugged-in implementation is, whatever its family (the plug-in contract, v0).

A family's decorator (``rope.implementation``, ``sinusoidal.implementation``) is built by
``make_decorator`` from the family's own declarations plus the COMMON ones below, which mean the
same for every family and are validated here, once.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from pe_spec.spec.dtypes import check_name


class Unsupported(Exception):
    """Raise from a factory for a configuration the kernel does not support.

    The suite then draws another configuration and reports how many it had to skip; any other
    exception from the factory is a failure of the clause being checked.
    """


class ContractError(TypeError):
    """The object plugged in does not honour the contract (bad declaration, bad return type)."""


# The smallest max_seq_len a kernel may declare: every check's standard draws (at most 32 tokens)
# and impl.environment's prefill (pe_properties.ambient.ENVIRONMENT_PREFILL) stay within it, so
# only the long-sequence regime's draws are excluded (tests/test_contract.py holds the two equal).
MIN_MAX_SEQ_LEN = 512

# Without a declared max_position, no configuration asks for more than this many cached values,
# max_position x the channels a position's encoding has (RoPE: rotary_dim): a kernel that sizes a
# cos/sin cache by max_position, as the contract invites, builds tables of at most 256 MiB in fp32
# instead of the 6 GiB a 2**25-position cache of 48 channels takes. Positions up to 2**25 are still
# drawn, with narrow encodings (position arithmetic goes wrong at 2**24 whatever the width);
# declaring max_position draws every width up to it.
UNDECLARED_CACHE_VALUES = 2**26

# Declarations every family's decorator accepts, with the same meaning everywhere.
COMMON_DECLARATIONS: dict[str, str] = {
    "dtypes": "float dtypes the kernel accepts (default: float32, bfloat16, float16)",
    "devices": "device types to check on, e.g. ('cpu', 'cuda') (default: every available device)",
    "max_position": ("positions are drawn below it: the largest cache or table it serves (default: none, and "
                     "max_position x channels stays within UNDECLARED_CACHE_VALUES = 2**26)"),
    "compile": "False: torch.compile not applicable (default: checked)",
    "max_seq_len": ("the longest sequence one call is made with, at least MIN_MAX_SEQ_LEN = 512 (default: the "
                    "long-sequence regime's longest); lower it only for a kernel whose every token is slow, e.g. "
                    "under an interpreter: the long-sequence regime is then not reached, and the report says so"),
    "name": "a display name (default: module:qualname of the factory)",
}


class Implementation:
    """A factory decorated with ``<family>.implementation(...)``.

    ``declared`` holds only what the author declared; anything missing is drawn by the suite
    from the family's full space. Built functions are cached per configuration (the factory is
    called once per configuration the suite draws), least recently used first out beyond
    CACHE_SIZE, so kernels holding tables sized by max_position do not accumulate them.
    """

    CACHE_SIZE = 24   # above the 12-config pool and the wide-heads pool the strategies draw most examples from

    def __init__(self, family: str, factory: Callable[[Any], Callable], name: str,
                 declared: Mapping[str, Any] | None = None) -> None:
        self.family = family
        self.factory = factory
        self.name = name
        self.declared = dict(declared or {})
        self.__doc__ = getattr(factory, "__doc__", None)
        self.__wrapped__ = factory
        self._cache: dict = {}
        self.target = ""      # the target string it was loaded from, if any (a fresh process reloads it)

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
            from pe_spec.spec import registry

            raise ContractError(f"{self.name}: the factory must return a callable "
                                f"{registry.get(self.family).signature}, got {type(fn).__name__}")
        cache[cfg] = fn
        while len(cache) > self.CACHE_SIZE:
            del cache[next(iter(cache))]
        return fn

    def get(self, key: str, default: Any = None) -> Any:
        return self.declared.get(key, default)


def as_tuple(value: Any) -> tuple:
    """A declaration of one value or several, as a tuple."""
    return (value,) if isinstance(value, (str, int, float)) else tuple(value)


def _validate_common(family: str, d: dict) -> None:
    if "dtypes" in d:
        d["dtypes"] = as_tuple(d["dtypes"])
        for v in d["dtypes"]:
            try:
                check_name(v)
            except ValueError as e:
                raise ContractError(f"{family}.implementation: {e}") from None
    if "devices" in d:
        d["devices"] = as_tuple(d["devices"])
    for key in ("max_position", "max_seq_len"):
        if key in d and (isinstance(d[key], bool) or not isinstance(d[key], int) or d[key] < 1):
            raise ContractError(f"{family}.implementation: {key} must be a positive int, got {d[key]!r}")
    if d.get("max_seq_len", MIN_MAX_SEQ_LEN) < MIN_MAX_SEQ_LEN:
        raise ContractError(f"{family}.implementation: max_seq_len must be at least {MIN_MAX_SEQ_LEN} (the suite's "
                            f"standard draws and impl.environment's prefill), got {d['max_seq_len']}")
    if "compile" in d and not isinstance(d["compile"], bool):
        raise ContractError(f"{family}.implementation: compile must be True or False, got {d['compile']!r}")


def make_decorator(family: str, declarations: Mapping[str, str],
                   validate: Callable[[dict], dict]) -> Callable[..., Callable]:
    """Build ``<family>.implementation(**declaration)``: ``declarations`` are every name it accepts
    (the family's own and COMMON_DECLARATIONS), ``validate`` checks and normalises the family's."""

    def implementation(**declaration: Any) -> Callable[[Callable], Implementation]:
        unknown = set(declaration) - set(declarations)
        if unknown:
            raise ContractError(f"{family}.implementation: unknown declaration(s) {sorted(unknown)}; "
                                f"allowed: {sorted(declarations)}")
        checked = dict(declaration)
        _validate_common(family, checked)
        checked = validate(checked)

        def wrap(factory: Callable) -> Implementation:
            if isinstance(factory, Implementation):
                raise ContractError("implementation(...) applied twice")
            if not callable(factory):
                raise ContractError(f"@{family}.implementation must decorate a factory function")
            declared = {k: v for k, v in checked.items() if k != "name"}
            return Implementation(family, factory, name=checked.get("name") or _qualname(factory), declared=declared)

        return wrap

    return implementation


def _qualname(fn: Callable) -> str:
    mod = getattr(fn, "__module__", None) or "?"
    return f"{mod}:{getattr(fn, '__qualname__', repr(fn))}"
