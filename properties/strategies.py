"""Hypothesis strategies that reach the regimes where positional-encoding bugs live.

Positions cluster around 2**8 (bf16 integer exactness), 2**11 (fp16), 2**16, 2**20, 2**24
(fp32 integer exactness) and the cache edge max_position - 1, with distinct, unsorted,
repeated or KV-cache-offset patterns; head counts are often odd; rotary dims partial; each
example carries many vectors (batch x heads x seq rows).
"""
from __future__ import annotations

from functools import lru_cache, wraps
from typing import Callable

from hypothesis import strategies as st

from pe_spec.contract import Implementation
from pe_spec.rope.contract import rotary_dims_for

HEAD_DIMS = (64, 128, 32, 80, 96, 256, 2, 6, 16)
BASES = (10000.0, 500000.0, 1_000_000.0, 100.0, 10_000_000.0)
MAX_POSITIONS = (2048, 4096, 8192, 32768, 131072, 2**21, 2**25)
REGIMES = (0, 16, 2**8, 2**11, 2**16, 2**20, 2**24)
MAX_ELEMENTS = 2**16   # per tensor, so examples stay fast on two cores


def _reused(build: Callable) -> Callable:
    """Build each distinct strategy once, not once per example.

    Strategies are immutable, and hypothesis validates every new strategy object (walking its
    whole tree) before the first draw: rebuilding the same strategies for each example costs
    more than drawing from them. Reuse changes nothing about what is drawn. Calls with an
    unhashable argument build afresh; the cache is bounded, since some callers pass a new
    closure per example.
    """
    cached = lru_cache(maxsize=64)(build)

    @wraps(build)
    def get(*args, **kwargs):
        try:
            return cached(*args, **kwargs)
        except TypeError:       # an unhashable argument
            return build(*args, **kwargs)

    return get


def _declared_or(impl: Implementation, key: str, default: st.SearchStrategy) -> st.SearchStrategy:
    values = impl.get(key)
    return st.sampled_from(values) if values else default


def config_pool(impl: Implementation, size: int = 12) -> list[dict]:
    """A small deterministic set of configurations spanning the declared space.

    Most examples draw from it, so a kernel that builds a cos/sin table per configuration
    builds a dozen tables per run, not one per example; the rest draw freely (rope_configs).
    """
    return [dict(c) for c in _config_pool(impl, size)]


@lru_cache(maxsize=32)
def _config_pool(impl: Implementation, size: int) -> tuple[dict, ...]:
    head_dims = impl.get("head_dims") or HEAD_DIMS[:6]
    bases = impl.get("bases") or BASES
    maxes = _max_positions(impl)
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


def _max_positions(impl: Implementation) -> list[int]:
    declared = impl.get("max_position")
    maxes = [m for m in MAX_POSITIONS if declared is None or m <= declared]
    if declared is not None and declared not in maxes:
        maxes.append(declared)
    return maxes


@_reused
@st.composite
def rope_configs(draw, impl: Implementation) -> dict:
    pool = _config_pool(impl, 12)
    if pool and draw(_FROM_POOL, label="from_pool"):
        return dict(draw(_pool_strategy(impl), label="config"))
    head_dim = draw(_declared_or(impl, "head_dims", st.one_of(
        st.sampled_from(HEAD_DIMS), st.integers(1, 80).map(lambda h: 2 * h))), label="head_dim")
    choices = rotary_dims_for(impl, head_dim)
    if not choices:
        from hypothesis import reject
        reject()
    preferred = [r for r in (head_dim, head_dim // 2, head_dim // 4) if r in choices]
    rotary_dim = draw(st.one_of(st.sampled_from(preferred), st.sampled_from(choices))
                      if preferred else st.sampled_from(choices), label="rotary_dim")
    base = draw(_declared_or(impl, "bases", st.one_of(
        st.sampled_from(BASES), st.floats(2.0, 1e7, allow_nan=False))), label="base")
    max_position = draw(st.sampled_from(_max_positions(impl)), label="max_position")
    scaling = draw(_declared_or(impl, "scalings", st.just("none")), label="scaling")
    return {"head_dim": head_dim, "rotary_dim": rotary_dim, "base": float(base),
            "max_position": max_position, "scaling": scaling}


_FROM_POOL = st.sampled_from([True, True, True, False])


@lru_cache(maxsize=32)
def _pool_strategy(impl: Implementation) -> st.SearchStrategy:
    return st.sampled_from(_config_pool(impl, 12))


@_reused
@st.composite
def positions(draw, max_position: int, seq: int, *, lowest: int = 0) -> tuple[int, ...]:
    """seq positions in [lowest, max_position): clustered at a regime, mostly distinct per row."""
    hi = max_position - 1
    centers = [c for c in REGIMES if lowest <= c <= hi] + [hi]
    center = draw(st.sampled_from(centers), label="regime")
    pattern = draw(st.sampled_from(["distinct", "distinct", "spread", "repeated", "ascending"]), label="pattern")
    if pattern == "ascending":  # a contiguous block, as in prefill, starting anywhere
        start = draw(st.integers(max(lowest, center - seq), max(lowest, min(center, hi - seq + 1))), label="start")
        return tuple(min(start + i, hi) for i in range(seq))
    if pattern == "spread":
        return tuple(draw(st.lists(st.integers(lowest, hi), min_size=seq, max_size=seq), label="spread"))
    span = max(4 * seq, 8)
    unique = pattern == "distinct"
    offsets = draw(st.lists(st.integers(-span, span), min_size=seq, max_size=seq, unique=unique), label="offsets")
    return tuple(min(max(center + o, lowest), hi) for o in offsets)


@_reused
@st.composite
def leading_dims(draw) -> tuple[int, ...]:
    """(batch, heads) with odd head counts common, or fewer leading dims."""
    rank = draw(st.sampled_from([2, 2, 1, 0, 3]), label="lead_rank")
    sizes = st.sampled_from([1, 2, 3, 5, 7])
    return tuple(draw(sizes, label="lead") for _ in range(rank))


def shrink_to_budget(lead: tuple[int, ...], seq: int, head_dim: int) -> tuple[int, ...]:
    lead = list(lead)
    while lead and _prod(lead) * seq * head_dim > MAX_ELEMENTS:
        lead[lead.index(max(lead))] = max(1, max(lead) // 2)
        if all(v == 1 for v in lead):
            break
    return tuple(lead)


def _prod(xs) -> int:
    out = 1
    for v in xs:
        out *= v
    return out


@_reused
@st.composite
def rope_examples(draw, impl: Implementation, dtype: str, *,
                  extra: Callable[..., dict] | None = None, min_seq: int = 1, max_seq: int = 24,
                  lowest_position: int = 0, position_room: int = 0,
                  config: st.SearchStrategy | None = None):
    """An Example for a RoPE check. ``position_room`` keeps positions + room < max_position."""
    from .harness import Example

    config = draw(config if config is not None else rope_configs(impl), label="config")
    seq = draw(st.integers(min_seq, max_seq), label="seq")
    limit = config["max_position"] - position_room
    if limit <= lowest_position:
        from hypothesis import reject
        reject()
    pos = draw(positions(limit, seq, lowest=lowest_position), label="positions")
    lead = shrink_to_budget(draw(leading_dims(), label="lead"), seq, config["head_dim"])
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    base = Example(config=config, dtype=dtype, lead=lead, positions=pos, seed=seed)
    if extra is None:
        return base
    return Example(config=config, dtype=dtype, lead=lead, positions=pos, seed=seed, extra=extra(draw, base))


# ---- sinusoidal tables ----
SINUSOIDAL_DIMS = (64, 512, 128, 16, 6, 4, 2, 7, 33)
SINUSOIDAL_BASES = (10000.0, 500.0, 100000.0)
SINUSOIDAL_MAX_POSITIONS = (512, 1500, 2048, 4096, 8192, 65536)


def _sinusoidal_dims(impl: Implementation) -> list[int]:
    from pe_spec.sinusoidal.reference import get_convention

    conv = get_convention(impl.declared["convention"])
    dims = []
    for d in impl.get("dims") or SINUSOIDAL_DIMS:
        try:
            conv.check_dim(d)
            dims.append(d)
        except ValueError:
            pass
    return dims


@_reused
@st.composite
def sinusoidal_configs(draw, impl: Implementation, dtype: str) -> dict:
    dims = _sinusoidal_dims(impl)
    if not dims:
        from hypothesis import reject
        reject()
    declared_max = impl.get("max_position")
    maxes = [m for m in SINUSOIDAL_MAX_POSITIONS if declared_max is None or m <= declared_max] or [declared_max]
    return {"dim": draw(st.sampled_from(dims), label="dim"),
            "base": float(draw(_declared_or(impl, "bases", st.sampled_from(SINUSOIDAL_BASES)), label="base")),
            "max_position": draw(st.sampled_from(maxes), label="max_position"),
            "dtype": dtype, "device": "cpu"}


@_reused
@st.composite
def sinusoidal_examples(draw, impl: Implementation, dtype: str, *, extra: Callable[..., dict] | None = None,
                        min_seq: int = 1, max_seq: int = 32, position_room: int = 0):
    from .harness import Example

    config = draw(sinusoidal_configs(impl, dtype), label="config")
    limit = config["max_position"] - position_room
    if limit <= 0:
        from hypothesis import reject
        reject()
    seq = draw(st.integers(min_seq, max_seq), label="seq")
    pos = draw(positions(limit, seq), label="positions")
    base = Example(config=config, dtype=dtype, lead=(), positions=pos, seed=0)
    if extra is None:
        return base
    return Example(config=config, dtype=dtype, lead=(), positions=pos, seed=0, extra=extra(draw, base))
