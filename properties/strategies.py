"""Hypothesis strategies every family shares: positions in the regimes where bugs live, leading
dims, the element budget, and the extras the universal checks draw.

Positions cluster around 2**8 (bf16 integer exactness), 2**11 (fp16), 2**16, 2**20, 2**24
(fp32 integer exactness) and the cache edge max_position - 1, with distinct, unsorted,
repeated or KV-cache-offset patterns; head counts are often odd; each example carries many
vectors (batch x heads x seq rows). A family's own strategies (configurations, examples) are in
its property package and build on these.
"""
from __future__ import annotations

from functools import lru_cache, wraps
from typing import Callable

from hypothesis import strategies as st

from pe_spec.spec.contract import Implementation

REGIMES = (0, 16, 2**8, 2**11, 2**16, 2**20, 2**24)
MAX_ELEMENTS = 2**16   # per tensor, so examples stay fast on two cores


def reused(build: Callable) -> Callable:
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


def declared_or(impl: Implementation, key: str, default: st.SearchStrategy) -> st.SearchStrategy:
    values = impl.get(key)
    return st.sampled_from(values) if values else default


@reused
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


@reused
@st.composite
def leading_dims(draw, rank: int | None = None, smallest: int = 1) -> tuple[int, ...]:
    """(batch, heads) with odd head counts common, or fewer (or more) leading dims; ``rank`` fixes
    how many, ``smallest`` the smallest size drawn."""
    if rank is None:
        rank = draw(st.sampled_from([2, 2, 1, 0, 3]), label="lead_rank")
    sizes = st.sampled_from([s for s in (1, 2, 3, 5, 7) if s >= smallest])
    return tuple(draw(sizes, label="lead") for _ in range(rank))


def shrink_to_budget(lead: tuple[int, ...], seq: int, width: int, smallest: int = 1) -> tuple[int, ...]:
    """Leading dims halved, largest first, until lead x seq x width fits MAX_ELEMENTS (none below
    ``smallest``)."""
    lead = list(lead)
    while lead and _prod(lead) * seq * width > MAX_ELEMENTS:
        i = lead.index(max(lead))
        if lead[i] // 2 < smallest:
            break
        lead[i] = lead[i] // 2
    return tuple(lead)


def _prod(xs) -> int:
    out = 1
    for v in xs:
        out *= v
    return out


# ---- extras the universal checks draw (Example.extra), for any family ----

def other_positions(draw, ex) -> dict:
    """A second call's positions (impl.determinism: a call in between may grow a cache)."""
    seq = draw(st.integers(1, 8), label="other_seq")
    return {"other_positions": list(draw(positions(ex.config["max_position"], seq), label="other"))}
