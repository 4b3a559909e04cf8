"""The sinusoidal plug-in contract: Config, the implementation decorator, the function under test.

    @sinusoidal.implementation(convention="vaswani", dtypes=("float32",))
    def my_table(cfg: sinusoidal.Config):
        return lambda positions: ...   # positions int64[seq] -> [seq, dim] in cfg.dtype on cfg.device

There is no input tensor, so the Config carries the dtype and device to produce.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pe_spec.spec.contract import COMMON_DECLARATIONS, ContractError, Implementation, Unsupported, as_tuple, make_decorator
from pe_spec.spec.dtypes import check_name
from pe_spec.families.sinusoidal.reference import CONVENTIONS, get_convention

__all__ = ["Config", "implementation", "Implementation", "Unsupported", "DECLARATIONS", "SIGNATURE"]


@dataclass(frozen=True)
class Config:
    """One sinusoidal configuration, handed to the factory.

    dim: channels of the encoding; base: the largest timescale (10000 in the paper);
    max_position: positions the table must serve are 0..max_position-1; dtype and device: what
    the returned tensor must be.
    """

    dim: int
    base: float = 10000.0
    max_position: int = 4096
    dtype: str = "float32"
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"dim must be positive, got {self.dim}")
        if not self.base > 1:
            raise ValueError(f"base must be > 1, got {self.base}")
        if self.max_position < 1:
            raise ValueError(f"max_position must be >= 1, got {self.max_position}")
        check_name(self.dtype)

    def as_dict(self) -> dict[str, Any]:
        return {"dim": self.dim, "base": self.base, "max_position": self.max_position,
                "dtype": self.dtype, "device": self.device}


SIGNATURE = "fn(positions int64[seq]) -> tensor [seq, dim] in cfg.dtype on cfg.device"

DECLARATIONS: dict[str, str] = {
    "convention": f"required: one of {', '.join(CONVENTIONS)} (they are different functions)",
    **COMMON_DECLARATIONS,
    "dtypes": "float dtypes it can produce (default: float32, bfloat16, float16)",
    "dims": "encoding dims it supports (default: drawn, 2..1024)",
    "bases": "bases it supports (default: drawn; 10000 is the paper's)",
    "max_position": "the longest table it serves; positions are drawn below it (default: up to 2**16)",
}


def _validate(d: dict) -> dict:
    if "convention" not in d:
        raise ContractError(f"sinusoidal.implementation needs convention=..., one of {', '.join(CONVENTIONS)}")
    try:
        get_convention(d["convention"])
    except ValueError as e:
        raise ContractError(f"sinusoidal.implementation: {e}") from None
    for key in ("dims", "bases"):
        if key in d:
            d[key] = as_tuple(d[key])
    return d


implementation: Callable[..., Callable[[Callable], Implementation]] = make_decorator("sinusoidal", DECLARATIONS,
                                                                                     _validate)
