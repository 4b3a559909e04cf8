"""Sinusoidal property tests: SinusoidalCase (CASE), its strategies and one check per
sinusoidal.* clause."""
from .case import CASE, SinusoidalCase
from .strategies import compile_examples, examples

__all__ = ["CASE", "SinusoidalCase", "compile_examples", "examples"]
