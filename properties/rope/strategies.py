"""RoPE configurations and examples: head dims (odd multiples included), partial rotary, bases from
100 to 1e7, caches from 2048 to 2**25 positions, drawn mostly from a small pool per kernel."""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from hypothesis import reject
from hypothesis import strategies as st

from pe_spec.families.rope.contract import rotary_dims_for
from pe_spec.spec.contract import Implementation

from ..engine import Example
from ..strategies import declared_or, leading_dims, positions, reused, shrink_to_budget

HEAD_DIMS = (64, 128, 32, 80, 96, 256, 2, 6, 16)
BASES = (10000.0, 500000.0, 1_000_000.0, 100.0, 10_000_000.0)
MAX_POSITIONS = (2048, 4096, 8192, 32768, 131072, 2**21, 2**25)


def max_positions(impl: Implementation, choices: tuple[int, ...]) -> list[int]:
    """The max_position values to draw: those of choices within the declared max_position, and it."""
    declared = impl.get("max_position")
    maxes = [m for m in choices if declared is None or m <= declared]
    if declared is not None and declared not in maxes:
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
    maxes = max_positions(impl, MAX_POSITIONS)
    pool = []
    for k in range(size):
        head_dim = head_dims[k % len(head_dims)]
        choices = rotary_dims_for(impl, head_dim)
        if not choices:
            continue
        preferred = [r for r in (head_dim, head_dim // 2, head_dim // 4) if r in choices] or choices
        pool.append({"head_dim": head_dim, "rotary_dim": preferred[k % len(preferred)],
                     "base": float(bases[k % len(bases)]), "max_position": maxes[(k * 5) % len(maxes)],
                     "scaling": (impl.get("scalings") or ("none",))[0]})
    return tuple(pool)


def compile_examples(impl: Implementation, dtype: str):
    """impl.compile's examples: one configuration, the pooled one serving the longest context (so
    positions reach every regime), and x of one rank, [batch, heads, seq, head_dim] as attention
    passes it, no dim of size 1 (which dynamo specialises): each configuration, dtype, rank and
    specialisation is a compilation of its own (seconds on a CPU)."""
    return examples(impl, dtype, config=max(config_pool(impl), key=lambda c: c["max_position"]), lead_rank=2,
                    min_seq=2, smallest_lead=2)


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
    max_position = draw(st.sampled_from(max_positions(impl, MAX_POSITIONS)), label="max_position")
    scaling = draw(declared_or(impl, "scalings", st.just("none")), label="scaling")
    return {"head_dim": head_dim, "rotary_dim": rotary_dim, "base": float(base),
            "max_position": max_position, "scaling": scaling}


_FROM_POOL = st.sampled_from([True, True, True, False])
# The batched-decode shape: one new token for several sequences and heads, x [batch, heads, 1, d]
# contiguous, where a kernel taking its row stride from the size-1 seq dim reads the wrong rows
# (Liger-Kernel 0.8.5, docs/findings/liger.md). One example in six, so every test meets it.
_DECODE = st.sampled_from([False] * 5 + [True])
_DECODE_LEAD = st.tuples(st.sampled_from([2, 3, 5]), st.sampled_from([2, 3, 7]))


@lru_cache(maxsize=32)
def _pool_strategy(impl: Implementation) -> st.SearchStrategy:
    return st.sampled_from(_config_pool(impl, 12))


@reused
@st.composite
def examples(draw, impl: Implementation, dtype: str, *,
             extra: Callable[..., dict] | None = None, min_seq: int = 1, max_seq: int = 24,
             lowest_position: int = 0, position_room: int = 0, config: dict | None = None,
             lead_rank: int | None = None, smallest_lead: int = 1):
    """An Example for a RoPE check. ``position_room`` keeps positions + room < max_position;
    ``config`` fixes the configuration (a dict) instead of drawing it, ``lead_rank`` the number of
    leading dims of x, ``smallest_lead`` their smallest size."""
    config = dict(config) if config is not None else draw(configs(impl), label="config")
    decode = min_seq <= 1 and lead_rank in (None, 2) and draw(_DECODE, label="batched_decode")
    seq = 1 if decode else draw(st.integers(min_seq, max_seq), label="seq")
    limit = config["max_position"] - position_room
    if limit <= lowest_position:
        reject()
    pos = draw(positions(limit, seq, lowest=lowest_position), label="positions")
    lead = draw(_DECODE_LEAD if decode else leading_dims(lead_rank, smallest_lead), label="lead")
    lead = shrink_to_budget(lead, seq, config["head_dim"], smallest_lead)
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    base = Example(config=config, dtype=dtype, lead=lead, positions=pos, seed=seed)
    if extra is None:
        return base
    return Example(config=config, dtype=dtype, lead=lead, positions=pos, seed=seed, extra=extra(draw, base))
