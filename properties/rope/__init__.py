"""RoPE property tests: RopeCase (CASE), its strategies and one check per rope.* clause."""
from .case import CASE, RopeCase
from .strategies import compile_examples, examples

__all__ = ["CASE", "RopeCase", "compile_examples", "examples"]
