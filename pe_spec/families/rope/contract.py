"""The RoPE plug-in contract: Config, the implementation decorator, the function under test.

    @rope.implementation(layout="half", dtypes=("float32", "bfloat16"))
    def my_rope(cfg: rope.Config):
        return lambda x, positions: ...   # x[..., seq, head_dim], positions int64[seq] -> like x
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from pe_spec.spec.contract import COMMON_DECLARATIONS, ContractError, Implementation, Unsupported, as_tuple, make_decorator
from pe_spec.families.rope.conventions import check_layout, check_rotary_dim

__all__ = ["Config", "implementation", "Implementation", "Unsupported", "SCALINGS", "SIGNATURE", "DECLARATIONS"]

SCALINGS: tuple[str, ...] = ("none",)   # context-extension scalings arrive with their own issue
SIGNATURE = "fn(x[..., seq, head_dim], positions int64[seq]) -> tensor like x"


@dataclass(frozen=True)
class Config:
    """One RoPE configuration, handed to the factory.

    head_dim: channels per head; rotary_dim: the leading channels that are rotated (even,
    <= head_dim; the rest pass through); base: theta_i = base**(-2i/rotary_dim);
    max_position: positions the kernel must serve are 0..max_position-1 (size a cache by it);
    scaling: context-extension scaling ("none").
    """

    head_dim: int
    rotary_dim: int
    base: float = 10000.0
    max_position: int = 4096
    scaling: str = "none"

    def __post_init__(self) -> None:
        if self.head_dim <= 0:
            raise ValueError(f"head_dim must be positive, got {self.head_dim}")
        check_rotary_dim(self.rotary_dim)
        if self.rotary_dim > self.head_dim:
            raise ValueError(f"rotary_dim {self.rotary_dim} exceeds head_dim {self.head_dim}")
        if not self.base > 1:
            raise ValueError(f"base must be > 1, got {self.base}")
        if self.max_position < 1:
            raise ValueError(f"max_position must be >= 1, got {self.max_position}")
        if self.scaling not in SCALINGS:
            raise ValueError(f"unknown scaling {self.scaling!r}; spec supports {SCALINGS}")

    def as_dict(self) -> dict[str, Any]:
        return {"head_dim": self.head_dim, "rotary_dim": self.rotary_dim, "base": self.base,
                "max_position": self.max_position, "scaling": self.scaling}


# What @rope.implementation(...) accepts; anything not declared is drawn from the full space.
DECLARATIONS: dict[str, str] = {
    "layout": "required: 'interleaved' (pairs (2i, 2i+1)) or 'half' (pairs (i, i + rotary_dim/2))",
    **COMMON_DECLARATIONS,
    "head_dims": "head dims it supports (default: even sizes 2..160 and common ones up to 256)",
    "rotary_dims": "ints (absolute), fractions f of head_dim in (0, 1] (rotary_dim int(head_dim * f), truncated), or 'full' (default: any even <= head_dim)",
    "bases": "rope_theta values it supports (default: drawn, 2..1e7)",
    "max_position": ("the largest cache it can build; positions are drawn below it (default: up to 2**25, with "
                     "max_position x rotary_dim <= 2**26, so a cache sized by max_position fits in memory)"),
    "scalings": "context-extension scalings (spec 2026.1: 'none' only)",
    "autograd": "True: must support autograd; False: inference-only, rope.gradient not applicable (default: probe)",
    "counterpart": ("the library's eager path this kernel replaces: a rope implementation or a target string "
                    "('transformers:llama'); device.counterpart compares them (default: none, not applicable)"),
}


def _validate(d: dict) -> dict:
    if "layout" not in d:
        raise ContractError("rope.implementation needs layout='interleaved' or layout='half'")
    try:
        check_layout(d["layout"])
    except ValueError as e:
        raise ContractError(f"rope.implementation: {e}") from None
    if "scalings" in d:
        d["scalings"] = as_tuple(d["scalings"])
        for v in d["scalings"]:
            if v not in SCALINGS:
                raise ContractError(f"rope.implementation: unknown scaling {v!r}; spec supports {SCALINGS}")
    for key in ("head_dims", "bases"):
        if key in d:
            d[key] = as_tuple(d[key])
    if "rotary_dims" in d:
        d["rotary_dims"] = _normalize_rotary_dims(d["rotary_dims"])
    if "autograd" in d and not isinstance(d["autograd"], bool):
        raise ContractError(f"rope.implementation: autograd must be True or False, got {d['autograd']!r}")
    if "counterpart" in d:
        check_counterpart(d["counterpart"], d["layout"])
    return d


def check_counterpart(counterpart: Any, layout: str) -> None:
    """A counterpart is a rope implementation with the same layout, or a target string naming one
    ('transformers:llama', 'path/to/file.py:name'), resolved only when device.counterpart runs."""
    if isinstance(counterpart, Implementation):
        if counterpart.family != "rope":
            raise ContractError(f"rope.implementation: counterpart {counterpart.name} is a {counterpart.family} "
                                "implementation, not a rope one")
        if counterpart.declared.get("layout") != layout:
            raise ContractError(f"rope.implementation: counterpart {counterpart.name} has layout "
                                f"{counterpart.declared.get('layout')!r}, this kernel {layout!r}")
    elif isinstance(counterpart, str):
        where, _, attr = counterpart.rpartition(":")
        if not where or not attr:
            raise ContractError(f"rope.implementation: counterpart {counterpart!r} must be a rope implementation "
                                "or a target string like 'transformers:llama' or 'path/to/file.py:name'")
    else:
        raise ContractError(f"rope.implementation: counterpart must be a rope implementation or a target string, "
                            f"got {type(counterpart).__name__}")




def _normalize_rotary_dims(v: Any) -> tuple:
    """Ints are absolute rotary dims; floats in (0, 1] are fractions of head_dim; 'full' = 1.0."""
    items: Sequence = (v,) if isinstance(v, (int, float, str)) else tuple(v)
    out = []
    for item in items:
        if item == "full":
            item = 1.0
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise ContractError(f"rope.implementation: rotary_dims entries must be ints, fractions or 'full', got {item!r}")
        if isinstance(item, float) and not 0 < item <= 1:
            raise ContractError(f"rope.implementation: rotary fraction must be in (0, 1], got {item}")
        out.append(item)
    return tuple(out)


def rotary_dims_for(impl: Implementation, head_dim: int) -> list[int]:
    """The rotary dims the kernel supports for head_dim (all even dims if undeclared)."""
    declared = impl.get("rotary_dims")
    if declared is None:
        return list(range(2, head_dim + 1, 2))
    dims = []
    for item in declared:
        r = int(head_dim * item) if isinstance(item, float) else item   # truncated, as transformers and GPT-NeoX do
        if 0 < r <= head_dim and r % 2 == 0:
            dims.append(r)
    return sorted(set(dims))


implementation: Callable[..., Callable[[Callable], Implementation]] = make_decorator("rope", DECLARATIONS, _validate)
