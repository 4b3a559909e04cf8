"""Hypothesis settings profiles for property runs (one place): ci, dev, thorough.

``run_settings(profile, seed)`` is what every route hands the engine (pe_properties.engine):
the CLI's check process, the pytest plugin, pe-spec's own tests. Seeds: the ``ci`` profile
draws the same examples on every run and machine (its seed base is fixed); ``dev`` and
``thorough`` draw fresh ones, from a base chosen per run and reported, which ``--seed`` replays.
"""
from __future__ import annotations

import random

PROFILES: dict[str, dict] = {
    # Derandomized: the same examples every run, so a CI verdict is reproducible bit for bit.
    "ci": {"max_examples": 25, "derandomize": True},
    # Fresh random examples each run, still quick: what a developer runs while iterating.
    "dev": {"max_examples": 50, "derandomize": False},
    # For a release or a new kernel: many more configurations and positions.
    "thorough": {"max_examples": 400, "derandomize": False},
}
DEFAULT_PROFILE = "ci"
# What one clause may spend shrinking its failures (shared by its dtypes): examples (the bound that
# normally applies, deterministic) and a wall-clock cap; past either, the smallest failing example
# found so far is reported, marked as not fully shrunk (pe_properties.shrinking).
SHRINK_EXAMPLES = 300
SHRINK_SECONDS = 30.0


def check_profile(name: str) -> str:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}")
    return name


def seed_of(profile: str, seed: int | None) -> int | None:
    """The seed of a run: the given one, else None for a derandomized profile (its fixed seed),
    else a fresh one (reported, so that --seed replays the run)."""
    if seed is not None or PROFILES[check_profile(profile)]["derandomize"]:
        return seed
    return random.SystemRandom().getrandbits(32)


def run_settings(profile: str = DEFAULT_PROFILE, seed: int | None = None, *,
                 shrink_examples: int = SHRINK_EXAMPLES, shrink_seconds: float = SHRINK_SECONDS):
    """The engine's settings for a run: the profile's hypothesis settings, the seed, the shrink
    budget."""
    from hypothesis import HealthCheck, settings

    from pe_properties.engine import RunSettings

    values = dict(PROFILES[check_profile(profile)])
    values.pop("derandomize")   # seeds are the engine's (pe_properties.engine.seed_for), not hypothesis's
    hyp = settings(deadline=None,  # a kernel's first call may compile or build a cache
                   database=None, print_blob=False,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.differing_executors, HealthCheck.filter_too_much],
                   **values)
    pin_source_constants()
    return RunSettings(hypothesis=hyp, profile=profile, seed=seed_of(profile, seed),
                       shrink_examples=shrink_examples, shrink_seconds=shrink_seconds)


def shrink_settings(settings) -> dict:
    """The shrink budget of a run, as a report records it."""
    return {"shrink_examples": settings.shrink_examples, "shrink_seconds": settings.shrink_seconds}


# Whether hypothesis's draws ignore the literals of local source files (pin_source_constants).
SOURCE_CONSTANTS_PINNED: bool = False


def pin_source_constants() -> bool:
    """Keep the literals of local source files out of hypothesis's draws.

    Hypothesis (6.131 on) makes a small share of its choices from constants it finds in the source
    of every loaded module that is not installed in site-packages: pe_spec and properties/ in an
    editable install, and the user's kernel file. Examples would then change whenever one of
    those files gains or loses a literal, so an edit to an adapter, or to a number in the kernel
    under test, would change what a check draws. Pinned to none, the draws depend on the seed,
    the strategies and hypothesis's version only (its own fixed constants, such as 0, -1, inf,
    and the regimes our strategies target, still appear). False where this hypothesis has no
    such mechanism or it moved; the report records which.
    """
    global SOURCE_CONSTANTS_PINNED
    try:
        from hypothesis.internal.conjecture import providers
        none = providers.Constants()
        providers._get_local_constants  # noqa: B018 (present since 6.131)
    except (ImportError, AttributeError):
        return False
    providers._get_local_constants = lambda: none
    providers.CONSTANTS_CACHE.cache.clear()
    SOURCE_CONSTANTS_PINNED = True
    return True
