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

import numpy as np
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
def block_positions(draw, max_position: int, seq: int, *, lowest: int = 0) -> tuple[int, ...]:
    """seq consecutive positions (a long prefill) in [lowest, max_position), starting near a regime
    centre; the caller makes sure seq fits."""
    hi = max_position - 1
    centers = [c for c in REGIMES if lowest <= c <= hi] + [hi]
    center = draw(st.sampled_from(centers), label="regime")
    start = draw(st.integers(max(lowest, min(center - seq, hi - seq + 1)), max(lowest, min(center, hi - seq + 1))),
                 label="start")
    return tuple(range(start, start + seq))


# Beyond this many items, a permutation or list of integers is drawn as one seed and made with
# numpy: hypothesis draws (and shrinks) each element of a list, too slow for thousands of tokens.
SEEDED_LIST_ABOVE = 64


def permutation(draw, items, label: str) -> list:
    items = list(items)
    if len(items) <= SEEDED_LIST_ABOVE:
        return list(draw(st.permutations(items), label=label))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label=f"{label}_seed"))
    return [items[i] for i in rng.permutation(len(items))]


def integer_list(draw, n: int, lo: int, hi: int, label: str, *, near: int | None = None) -> list[int]:
    """n integers in [lo, hi], or, with near, mostly in [lo, min(hi, lo + near)]."""
    if n <= SEEDED_LIST_ABOVE:
        element = st.integers(lo, hi) if near is None else st.one_of(st.integers(lo, min(hi, lo + near)),
                                                                     st.integers(lo, hi))
        return list(draw(st.lists(element, min_size=n, max_size=n), label=label))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label=f"{label}_seed"))
    top = hi if near is None else min(hi, lo + near)
    return [int(v) for v in rng.integers(lo, top + 1, size=n)]


# Input magnitudes and storage (Example.inputs; pe_spec.spec.regimes): one example in eight is
# huge, one tiny, one a view at the far end of a large buffer (independently).
_MAGNITUDE = st.sampled_from([None] * 6 + ["huge", "tiny"])
_LARGE_STORAGE = st.sampled_from([False] * 7 + [True])


def input_regimes(draw, *, large_storage: bool = True) -> dict:
    """Example.inputs: the magnitude and storage regime of the example's input tensors."""
    out = {}
    magnitude = draw(_MAGNITUDE, label="magnitude")
    if magnitude:
        out["magnitude"] = magnitude
    if large_storage and draw(_LARGE_STORAGE, label="large_storage"):
        out["storage"] = "large"
    return out


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
