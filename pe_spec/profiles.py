"""Hypothesis settings profiles for property runs (one place): ci, dev, thorough."""
from __future__ import annotations

PROFILES: dict[str, dict] = {
    # Derandomized: the same examples every run, so a CI verdict is reproducible bit for bit.
    "ci": {"max_examples": 25, "derandomize": True, "database": None},
    # Fresh random examples each run, still quick: what a developer runs while iterating.
    "dev": {"max_examples": 50, "derandomize": False},
    # For a release or a new kernel: many more configurations and positions.
    "thorough": {"max_examples": 400, "derandomize": False},
}
DEFAULT_PROFILE = "ci"


def register_profiles() -> None:
    from hypothesis import HealthCheck, settings

    common = dict(
        deadline=None,  # a kernel's first call may compile or build a cache
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.differing_executors, HealthCheck.filter_too_much],
    )
    for name, values in PROFILES.items():
        settings.register_profile(f"pe-{name}", **common, **values)


# Whether hypothesis's draws ignore the literals of local source files (pin_source_constants).
SOURCE_CONSTANTS_PINNED: bool = False


def pin_source_constants() -> bool:
    """Keep the literals of local source files out of hypothesis's draws.

    Hypothesis (6.131 on) makes a small share of its choices from constants it finds in the source
    of every loaded module that is not installed in site-packages: pe_spec and properties/ in an
    editable install, and the user's kernel file. Derandomized (ci) examples then change whenever
    one of those files gains or loses a literal, so an edit to an adapter, or to a comment-free
    number in the kernel under test, would change what a check draws. Pinned to none, the draws
    depend on the seed, the strategies and hypothesis's version only (its own fixed constants,
    such as 0, -1, inf, and the regimes our strategies target, still appear). False where this
    hypothesis has no such mechanism or it moved; the report records which.
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


def load_profile(name: str) -> None:
    from hypothesis import settings

    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}")
    register_profiles()
    settings.load_profile(f"pe-{name}")
    pin_source_constants()
