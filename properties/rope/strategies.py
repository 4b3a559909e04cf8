"""RoPE configurations and examples: head dims (odd multiples included), partial rotary, bases from
100 to 1e7, caches from 2048 to 2**25 positions (undeclared: within UNDECLARED_CACHE_VALUES), drawn
mostly from a small pool per kernel."""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from hypothesis import reject
from hypothesis import strategies as st

from pe_spec.families.rope.contract import rotary_dims_for
from pe_spec.spec import regimes
from pe_spec.spec.contract import UNDECLARED_CACHE_VALUES, Implementation

from ..engine import Example
from ..strategies import (MAX_ELEMENTS, block_positions, declared_or, input_regimes, leading_dims, positions, reused,
                          shrink_to_budget)

HEAD_DIMS = (64, 128, 32, 80, 96, 256, 2, 6, 16)
BASES = (10000.0, 500000.0, 1_000_000.0, 100.0, 10_000_000.0)
MAX_POSITIONS = (2048, 4096, 8192, 32768, 131072, 2**21, 2**25)


def max_positions(impl: Implementation, choices: tuple[int, ...], rotary_dim: int) -> list[int]:
    """The max_position values to draw for rotary_dim, in the order of choices: those within the
    declared max_position, and it; undeclared, each choice lowered to the largest whose cache of
    max_position x rotary_dim values fits in UNDECLARED_CACHE_VALUES."""
    declared = impl.get("max_position")
    if declared is None:
        cap = max(UNDECLARED_CACHE_VALUES // rotary_dim, min(choices))
        return list(dict.fromkeys(min(m, cap) for m in choices))
    maxes = [m for m in choices if m <= declared]
    if declared not in maxes:
        maxes.append(declared)
    return maxes


def config_pool(impl: Implementation, size: int = 12) -> list[dict]:
    """A small deterministic set of configurations spanning the declared space.

    Most examples draw from it, so a kernel that builds a cos/sin table per configuration
    builds a dozen tables per run, not one per example; the rest draw freely (configs).
    """
    return [dict(c) for c in _config_pool(impl, size)]


@lru_cache(maxsize=32)
def _config_pool(impl: Implementation, size: int) -> tuple[dict, ...]:
    head_dims = impl.get("head_dims") or HEAD_DIMS[:6]
    bases = impl.get("bases") or BASES
    pool = []
    for k in range(size):
        head_dim = head_dims[k % len(head_dims)]
        choices = rotary_dims_for(impl, head_dim)
        if not choices:
            continue
        preferred = [r for r in (head_dim, head_dim // 2, head_dim // 4) if r in choices] or choices
        rotary_dim = preferred[k % len(preferred)]
        longest = (k * 5) % len(MAX_POSITIONS) == len(MAX_POSITIONS) - 1
        if longest and impl.get("max_position") is None:
            rotary_dim = min(choices)   # the narrowest cache, so the longest context is drawn undeclared too
        maxes = max_positions(impl, MAX_POSITIONS, rotary_dim)
        pool.append({"head_dim": head_dim, "rotary_dim": rotary_dim,
                     "base": float(bases[k % len(bases)]), "max_position": maxes[(k * 5) % len(maxes)],
                     "scaling": (impl.get("scalings") or ("none",))[0]})
    return tuple(pool)


def compile_examples(impl: Implementation, dtype: str):
    """impl.compile's examples: one configuration, the pooled one with the largest cache, positions
    x rotary channels (so positions reach far on a rotation of many pairs), and x of one rank, [batch, heads, seq, head_dim] as attention
    passes it, no dim of size 1 (which dynamo specialises): each configuration, dtype, rank and
    specialisation is a compilation of its own (seconds on a CPU)."""
    return examples(impl, dtype, config=max(config_pool(impl), key=lambda c: c["max_position"] * c["rotary_dim"]),
                    lead_rank=2,
                    min_seq=2, smallest_lead=2, large_storage=False)


@reused
@st.composite
def configs(draw, impl: Implementation) -> dict:
    pool = _config_pool(impl, 12)
    if pool and draw(_FROM_POOL, label="from_pool"):
        return dict(draw(_pool_strategy(impl), label="config"))
    head_dim = draw(declared_or(impl, "head_dims", st.one_of(
        st.sampled_from(HEAD_DIMS), st.integers(1, 80).map(lambda h: 2 * h))), label="head_dim")
    choices = rotary_dims_for(impl, head_dim)
    if not choices:
        reject()
    preferred = [r for r in (head_dim, head_dim // 2, head_dim // 4) if r in choices]
    rotary_dim = draw(st.one_of(st.sampled_from(preferred), st.sampled_from(choices))
                      if preferred else st.sampled_from(choices), label="rotary_dim")
    base = draw(declared_or(impl, "bases", st.one_of(
        st.sampled_from(BASES), st.floats(2.0, 1e7, allow_nan=False))), label="base")
    max_position = draw(st.sampled_from(max_positions(impl, MAX_POSITIONS, rotary_dim)), label="max_position")
    scaling = draw(declared_or(impl, "scalings", st.just("none")), label="scaling")
    return {"head_dim": head_dim, "rotary_dim": rotary_dim, "base": float(base),
            "max_position": max_position, "scaling": scaling}


_FROM_POOL = st.sampled_from([True, True, True, False])
# The shape of an example: a standard one (odd heads, a few dozen tokens) half the time, else one
# of the shape regimes (pe_spec.spec.regimes), each one example in eight, so a 25-example test
# meets each of them with probability 0.96 and every check of a kernel meets all of them.
# batched-decode: one new token for several sequences and heads, x [batch, heads, 1, d] contiguous,
# where a kernel taking its row stride from the size-1 seq dim reads the wrong rows (Liger-Kernel
# 0.8.5, docs/findings/liger.md).
_SHAPE = st.sampled_from(["standard"] * 4 + ["batched-decode", "many-heads", "wide-heads", "long-sequence"])
_DECODE_LEAD = st.tuples(st.sampled_from([2, 3, 5]), st.sampled_from([2, 3, 7]))


@lru_cache(maxsize=32)
def _pool_strategy(impl: Implementation) -> st.SearchStrategy:
    return st.sampled_from(_config_pool(impl, 12))


@lru_cache(maxsize=32)
def _wide_pool(impl: Implementation) -> tuple[dict, ...]:
    """Configurations with head dims past 256 (regimes.WIDE_HEAD_DIMS, or those the kernel declares)."""
    declared = impl.get("head_dims")
    wide = [d for d in (declared or regimes.WIDE_HEAD_DIMS) if d > 256]
    bases = impl.get("bases") or BASES
    pool = []
    for k, head_dim in enumerate(wide):
        choices = rotary_dims_for(impl, head_dim)
        if choices:
            rotary = head_dim if head_dim in choices else max(choices)
            maxes = max_positions(impl, MAX_POSITIONS, rotary)
            pool.append({"head_dim": head_dim, "rotary_dim": rotary, "base": float(bases[k % len(bases)]),
                         "max_position": maxes[(k * 3) % len(maxes)],
                         "scaling": (impl.get("scalings") or ("none",))[0]})
    return tuple(pool)


def _shape(draw, impl, config, min_seq, max_seq, lead_rank, limit) -> str:
    """The example's shape regime, among those its check's constraints allow."""
    shape = draw(_SHAPE, label="shape")
    allowed = {"standard": True,
               "batched-decode": min_seq <= 1 and lead_rank in (None, 2),
               "many-heads": lead_rank in (None, 2),
               "wide-heads": config is None and bool(_wide_pool(impl)),
               "long-sequence": max_seq >= min_seq and bool(regimes.long_sequences(impl.get("max_seq_len"), limit))}
    return shape if allowed[shape] else "standard"


@reused
@st.composite
def examples(draw, impl: Implementation, dtype: str, *,
             extra: Callable[..., dict] | None = None, min_seq: int = 1, max_seq: int = 24,
             lowest_position: int = 0, position_room: int = 0, config: dict | None = None,
             lead_rank: int | None = None, smallest_lead: int = 1, large_storage: bool = True):
    """An Example for a RoPE check. ``position_room`` keeps positions + room < max_position;
    ``config`` fixes the configuration (a dict) instead of drawing it, ``lead_rank`` the number of
    leading dims of x, ``smallest_lead`` their smallest size; ``large_storage`` allows the regime."""
    fixed = config
    config = dict(config) if config is not None else draw(configs(impl), label="config")
    shape = _shape(draw, impl, fixed, min_seq, max_seq, lead_rank, config["max_position"] - position_room - lowest_position)
    if shape == "wide-heads":
        config = dict(draw(st.sampled_from(_wide_pool(impl)), label="wide_config"))
    elif shape == "long-sequence" and fixed is None:   # few channels: the pooled config with the fewest
        config = dict(min(_config_pool(impl, 12) or (config,), key=lambda c: c["head_dim"]))
    limit = config["max_position"] - position_room
    if limit <= lowest_position:
        reject()
    if shape == "long-sequence":
        fits = regimes.long_sequences(impl.get("max_seq_len"), limit - lowest_position) or [max_seq]
        seq = draw(st.sampled_from(fits), label="seq")
        pos = draw(block_positions(limit, seq, lowest=lowest_position), label="positions")
        lead = (max(1, smallest_lead),) * (2 if lead_rank is None else lead_rank)
    else:
        seq = 1 if shape == "batched-decode" else draw(st.integers(min_seq, max_seq), label="seq")
        if shape == "many-heads":   # the other axes shrunk so the call stays small
            seq = max(min_seq, min(seq, MAX_ELEMENTS // (max(regimes.MANY_HEADS) * config["head_dim"])))
        pos = draw(positions(limit, seq, lowest=lowest_position), label="positions")
        if shape == "batched-decode":
            lead = draw(_DECODE_LEAD, label="lead")
        elif shape == "many-heads":
            lead = (max(1, smallest_lead), draw(st.sampled_from(regimes.MANY_HEADS), label="heads"))
        else:
            lead = draw(leading_dims(lead_rank, smallest_lead), label="lead")
            lead = shrink_to_budget(lead, seq, config["head_dim"], smallest_lead)
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    inputs = input_regimes(draw, large_storage=large_storage)
    base = Example(config=config, dtype=dtype, lead=lead, positions=pos, seed=seed, inputs=inputs)
    if extra is None:
        return base
    return Example(config=config, dtype=dtype, lead=lead, positions=pos, seed=seed, extra=extra(draw, base),
                   inputs=inputs)
