"""Channel layouts and the permutations between them (one place).

A rotary layout says which two channels of the rotated slice form pair i (frequency w_i):
  interleaved: (2i, 2i+1)        RoFormer eq. 34, GPT-J, Meta's complex-number code
  half:        (i, i + d/2)      GPT-NeoX, Hugging Face rotate_half
Within a pair (a, b) the rotation is counter-clockwise (RoFormer eq. 13):
  a' = a cos(t) - b sin(t),  b' = a sin(t) + b cos(t).
"""
from __future__ import annotations

import numpy as np

ROTARY_LAYOUTS: tuple[str, ...] = ("interleaved", "half")


def check_layout(layout: str) -> str:
    if layout not in ROTARY_LAYOUTS:
        raise ValueError(f"unknown rotary layout {layout!r}; expected one of {', '.join(ROTARY_LAYOUTS)}")
    return layout


def check_rotary_dim(rotary_dim: int) -> int:
    if rotary_dim <= 0 or rotary_dim % 2:
        raise ValueError(f"rotary_dim must be a positive even integer, got {rotary_dim}")
    return rotary_dim


def pair_channels(layout: str, rotary_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, second): channel indices of the two members of each pair i = 0..d/2-1."""
    check_layout(layout)
    half = check_rotary_dim(rotary_dim) // 2
    i = np.arange(half)
    if layout == "interleaved":
        return 2 * i, 2 * i + 1
    return i, i + half


def interleaved_to_half(rotary_dim: int) -> np.ndarray:
    """P = [0, 2, 4, ..., d-2, 1, 3, ..., d-1]: x_half = x_interleaved[..., P].

    With it, interleaved_rope(x)[..., P] == half_rope(x[..., P]): the two layouts are the same
    map conjugated by a fixed channel permutation (the HF Llama checkpoint converter applies P
    to the q/k weight rows).
    """
    first, second = pair_channels("interleaved", rotary_dim)
    return np.concatenate([first, second])


def permutation(src: str, dst: str, rotary_dim: int) -> np.ndarray:
    """Indices Q with x_dst = x_src[..., Q]."""
    check_layout(src), check_layout(dst)
    P = interleaved_to_half(rotary_dim)
    if src == dst:
        return np.arange(rotary_dim)
    return P if src == "interleaved" else np.argsort(P)
