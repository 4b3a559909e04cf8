"""Sinusoidal table configurations and examples: odd and tiny dims, three bases, tables from 512
to 65536 positions, the dtype and device to produce in the configuration."""
from __future__ import annotations

from typing import Callable

from hypothesis import reject
from hypothesis import strategies as st

from pe_spec.families.sinusoidal.reference import get_convention
from pe_spec.spec import regimes
from pe_spec.spec.contract import Implementation

from ..engine import Example
from ..strategies import block_positions, declared_or, positions, reused

DIMS = (64, 512, 128, 16, 6, 4, 2, 7, 33)
BASES = (10000.0, 500.0, 100000.0)
MAX_POSITIONS = (512, 1500, 2048, 4096, 8192, 65536)
# One example in eight is a table of a long prefill (regimes.LONG_SEQUENCES rows); dims past 256
# (512 among DIMS) are the wide-heads regime.
_LONG = st.sampled_from([False] * 7 + [True])


def dims(impl: Implementation) -> list[int]:
    """The dims to draw: declared (or DIMS) that the declared convention defines."""
    conv = get_convention(impl.declared["convention"])
    out = []
    for d in impl.get("dims") or DIMS:
        try:
            conv.check_dim(d)
            out.append(d)
        except ValueError:
            pass
    return out


def _maxes(impl: Implementation) -> list[int]:
    declared = impl.get("max_position")
    return [m for m in MAX_POSITIONS if declared is None or m <= declared] or [declared]


def compile_examples(impl: Implementation, dtype: str):
    """impl.compile's examples: one configuration per dtype (a compilation each): the first dim
    the convention defines, the last base (not the paper's 10000, so a kernel ignoring its base
    shows), the longest table; at least two positions (dynamo specialises a size-1 dim)."""
    bases = impl.get("bases") or BASES
    config = {"dim": (dims(impl) or [DIMS[0]])[0], "base": float(bases[-1]), "max_position": max(_maxes(impl)),
              "dtype": dtype, "device": "cpu"}
    return examples(impl, dtype, config=config, min_seq=2)


@reused
@st.composite
def configs(draw, impl: Implementation, dtype: str) -> dict:
    choices = dims(impl)
    if not choices:
        reject()
    return {"dim": draw(st.sampled_from(choices), label="dim"),
            "base": float(draw(declared_or(impl, "bases", st.sampled_from(BASES)), label="base")),
            "max_position": draw(st.sampled_from(_maxes(impl)), label="max_position"),
            "dtype": dtype, "device": "cpu"}


@reused
@st.composite
def examples(draw, impl: Implementation, dtype: str, *, extra: Callable[..., dict] | None = None,
             min_seq: int = 1, max_seq: int = 32, position_room: int = 0, config: dict | None = None):
    config = dict(config) if config is not None else draw(configs(impl, dtype), label="config")
    limit = config["max_position"] - position_room
    if limit <= 0:
        reject()
    fits = regimes.long_sequences(impl.get("max_seq_len"), limit)
    if fits and max_seq >= min_seq and draw(_LONG, label="long_sequence"):   # a table for a long prefill
        seq = draw(st.sampled_from(fits), label="seq")
        pos = draw(block_positions(limit, seq), label="positions")
    else:
        seq = draw(st.integers(min_seq, max_seq), label="seq")
        pos = draw(positions(limit, seq), label="positions")
    base = Example(config=config, dtype=dtype, lead=(), positions=pos, seed=0)
    if extra is None:
        return base
    return Example(config=config, dtype=dtype, lead=(), positions=pos, seed=0, extra=extra(draw, base))
