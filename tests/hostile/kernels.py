"""Hostile RoPE implementations: each breaks the plug-in contract, or the process, in one way.

pe-spec must turn every one of them into a clean, specific verdict (tests/test_hostile.py): the
expected exit status, the clause that fails with a message that says what happened, never a
traceback from pe-spec itself, never a hang, never a pass. They live here, beside the known-bug
kernels, rather than in pe_spec/examples: they are test material for the suite's robustness, and
an installed package has no business shipping kernels that segfault or exhaust memory where a
user (or a tool enumerating pe_spec.examples) could run them.

All declare float32 only and small configurations, so each row of the table costs seconds.
Kernels whose module-level behaviour is the hostile part (a bad declaration, a crash or hang on
import) are written to a temporary file by the test instead: one of them here would break the
import of all the others.
"""
from __future__ import annotations

import ctypes
import math
import os
import signal
import sys
import time

import torch

from pe_spec import rope
from pe_spec.examples import rope_half_cached

SMALL = dict(layout="half", dtypes=("float32",), head_dims=(8, 16), max_position=4096)


def correct(cfg: rope.Config):
    """A correct kernel function for cfg (the bundled reference-quality kernel)."""
    return rope_half_cached.factory(cfg)


def _wrap(post):
    """A kernel computing the correct rotation, then handing post(y, x, positions) back."""

    def factory(cfg: rope.Config):
        f = correct(cfg)
        return lambda x, positions: post(f(x, positions), x, positions)

    return factory


# ---- what it returns ----
@rope.implementation(**SMALL)
def raises(cfg: rope.Config):
    def apply(x, positions):
        raise RuntimeError("kernel exploded")

    return apply


returns_nan = rope.implementation(**SMALL)(_wrap(lambda y, x, p: torch.full_like(y, math.nan)))
returns_inf = rope.implementation(**SMALL)(_wrap(lambda y, x, p: torch.full_like(y, math.inf)))
wrong_shape = rope.implementation(**SMALL)(_wrap(lambda y, x, p: y[..., :-2]))
wrong_dtype = rope.implementation(**SMALL)(_wrap(lambda y, x, p: y.double()))
wrong_device = rope.implementation(**SMALL)(_wrap(lambda y, x, p: torch.empty_like(y, device="meta")))
returns_numpy = rope.implementation(**SMALL)(_wrap(lambda y, x, p: y.numpy()))
returns_list = rope.implementation(**SMALL)(_wrap(lambda y, x, p: y.tolist()))
returns_none = rope.implementation(**SMALL)(_wrap(lambda y, x, p: None))
calls_sys_exit = rope.implementation(**SMALL)(_wrap(lambda y, x, p: sys.exit(3)))


@rope.implementation(**SMALL)
def mutates_input(cfg: rope.Config):
    """Correct output, but it scribbles on x afterwards (a fused kernel's scratch space)."""
    f = correct(cfg)

    def apply(x, positions):
        y = f(x, positions).clone()
        x.mul_(0.5)
        return y

    return apply


@rope.implementation(**SMALL)
def aliases_input(cfg: rope.Config):
    """Returns x itself where the rotation is the identity (every position 0): a fast path whose
    output aliases its input, so a caller scaling the output in place changes q under its feet."""
    f = correct(cfg)

    def apply(x, positions):
        if not bool(positions.any()):
            return x
        return f(x, positions)

    return apply


@rope.implementation(**SMALL)
def nondeterministic(cfg: rope.Config):
    """Adds a little noise: every value within the tolerance model, no two calls alike."""
    f = correct(cfg)

    def apply(x, positions):
        y = f(x, positions)
        return y + torch.randn_like(y) * 1e-7 * y.abs()

    return apply


# ---- the factory ----
@rope.implementation(**SMALL)
def unsupported_some(cfg: rope.Config):
    """Serves head_dim 8 only; raises Unsupported for the rest (counted, not failed)."""
    if cfg.head_dim != 8:
        raise rope.Unsupported("head_dim 8 only")
    return correct(cfg)


@rope.implementation(**SMALL)
def factory_raises(cfg: rope.Config):
    """Like unsupported_some, but says so with a ValueError: a failure of the clause."""
    if cfg.head_dim != 8:
        raise ValueError("head_dim 8 only")
    return correct(cfg)


@rope.implementation(**SMALL)
def unsupported_all(cfg: rope.Config):
    raise rope.Unsupported("nothing is supported")


@rope.implementation(**SMALL)
def factory_returns_string(cfg: rope.Config):
    return "not a function"


# ---- time ----
@rope.implementation(**SMALL)
def hangs(cfg: rope.Config):
    """The kernel sleeps for an hour (a Python-level hang: the call time limit stops it)."""

    def apply(x, positions):
        time.sleep(3600)

    return apply


@rope.implementation(**SMALL)
def very_slow(cfg: rope.Config):
    """The factory tabulates cos/sin for 2**22 positions in a pure-Python loop (a busy loop of
    minutes: the time limit stops the factory)."""
    inv = [cfg.base ** (-2 * i / cfg.rotary_dim) for i in range(cfg.rotary_dim // 2)]
    table = [[(math.cos(p * w), math.sin(p * w)) for w in inv] for p in range(max(cfg.max_position, 2**22))]
    return correct(cfg) if table else None


@rope.implementation(**SMALL)
def native_hang(cfg: rope.Config):
    """Blocks SIGALRM, then sleeps: what native code that never returns looks like to the
    interpreter. Only the parent's watchdog can end it."""

    def apply(x, positions):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)

    return apply


@rope.implementation(**SMALL)
def swallows_timeout(cfg: rope.Config):
    """Catches everything, the time limit's exception included, and goes on sleeping."""

    def apply(x, positions):
        while True:
            try:
                time.sleep(3600)
            except BaseException:
                pass

    return apply


# ---- the process ----
@rope.implementation(**SMALL)
def exits(cfg: rope.Config):
    """os._exit(3) in the middle of a call: no exception, no cleanup, the process is gone."""

    def apply(x, positions):
        print("about to leave", file=sys.stderr, flush=True)
        os._exit(3)

    return apply


@rope.implementation(**SMALL)
def segfaults(cfg: rope.Config):
    """Reads address 0, as a buggy C extension would: SIGSEGV."""

    def apply(x, positions):
        print("calling the extension", file=sys.stderr, flush=True)
        return ctypes.string_at(0)

    return apply


# ---- memory ----
@rope.implementation(**SMALL)
def absurd_allocation(cfg: rope.Config):
    """Asks for a 512 TiB workspace."""

    def apply(x, positions):
        workspace = x.new_empty(2**47)
        return workspace[: x.numel()].view_as(x)

    return apply


_LEAKED: list = []


@rope.implementation(**SMALL)
def leaks(cfg: rope.Config):
    """Keeps a 256 MiB buffer alive per call: memory grows until something gives."""
    f = correct(cfg)

    def apply(x, positions):
        _LEAKED.append(torch.empty(2**26))
        return f(x, positions)

    return apply


# ---- output ----
@rope.implementation(**SMALL)
def floods_output(cfg: rope.Config):
    """Correct, but prints 2 MiB to stdout and 256 KiB to stderr per configuration, some of it
    through Python's print and some straight to the file descriptors."""
    f = correct(cfg)
    line = "debug: " + "x" * 1017 + "\n"
    for _ in range(1024):
        sys.stdout.write(line)
    os.write(1, line.encode() * 1024)
    os.write(2, b"warning: \x1b[31mred\x1b[0m " + b"y" * 1000 + b"\n" * 1 + (b"z" * 1023 + b"\n") * 255)
    sys.stdout.flush()
    return f

