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


def load_profile(name: str) -> None:
    from hypothesis import settings

    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}")
    register_profiles()
    settings.load_profile(f"pe-{name}")
