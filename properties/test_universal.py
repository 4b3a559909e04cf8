"""Property tests every kernel must pass whatever it encodes: impl.* and device.*, written once.

Each runs against the family-neutral Case protocol (pe_properties.case) with the kernel's own
family's Case, inputs and strategies; what a clause means for a family is in that family's record
(Family.universal), and a clause a family's kernels cannot meet in principle is reported as not
applicable to them (Family.not_applicable), never left out.
"""
from __future__ import annotations

import contextlib
import importlib

import numpy as np
import torch
from hypothesis import reject
from hypothesis import strategies as st

from pe_spec.spec import registry
from pe_spec.spec.contract import Unsupported

from . import fresh, outcomes
from .ambient import ambient, built_for, environment_calls
from .case import Case
from .engine import property_test
from .strategies import REGIMES, other_positions
from .tensors import bitwise_equal, difference, shares_memory


def family_module(impl):
    """The kernel's family's property package: CASE, examples(...), compile_examples(...)."""
    return importlib.import_module(registry.family_of(impl).properties)


def examples(impl, dtype, **kw):
    return family_module(impl).examples(impl, dtype, **kw)


def universal(check_id: str, **kw):
    return property_test(check_id, family=None, **kw)


@universal("impl.no-mutation", examples=examples)
def test_no_mutation(case: Case) -> None:
    args = case.make_inputs()
    before = [a.clone() for a in args]
    case.call(args, restore=False)
    for name, a, b in zip(case.INPUTS, args, before):
        if not bitwise_equal(a, b):
            changed = int((a != b).sum())
            case.fail(f"the kernel wrote into its input {name} ({changed} of {a.numel()} elements changed)")


@universal("impl.dtype-shape", examples=examples)
def test_dtype_shape(case: Case) -> None:
    args = case.make_inputs()
    y = case.call(args)
    _, dtype, device = case.expected_output(args)
    if y.dtype != dtype:
        case.fail(f"output dtype {y.dtype} differs from {case.PRESCRIBED} dtype {dtype}")
    if y.device.type != device.type:
        case.fail(f"output device {y.device} differs from {case.PRESCRIBED} device {device}")


@universal("impl.batch-independence", examples=lambda impl, dt: examples(impl, dt, min_seq=2))
def test_batch_independence(case: Case) -> None:
    args = case.row_inputs()
    y = case.call(args)
    n = case.rows(args)
    perm = np.random.default_rng(case.ex.seed).permutation(n)
    permuted = case.take_rows(args, perm)
    case.expect_agree(case.call(permuted), case.output_rows(y, perm, args), permuted,
                      "permuting the independent rows did not permute the output")
    last = np.array([n - 1])
    alone = case.take_rows(args, last)
    case.expect_agree(case.call(alone), case.output_rows(y, last, args), alone,
                      "the last row computed alone differs from the same row in the full call")


def _layout(impl, dtype):
    kinds = family_module(impl).CASE.LAYOUTS
    return examples(impl, dtype, extra=lambda draw, ex: {"layout": draw(st.sampled_from(kinds), label="view")})


@universal("impl.stride-invariance", examples=_layout)
def test_stride_invariance(case: Case) -> None:
    kind = case.ex.extra["layout"]
    view = case.non_contiguous(kind)
    contiguous = tuple(a.contiguous() for a in view)
    case.expect_agree(case.call(view), case.call(contiguous), contiguous,
                      f"a non-contiguous ({kind}) input gives a different result")


@universal("impl.determinism", examples=lambda impl, dt: examples(impl, dt, extra=other_positions))
def test_determinism(case: Case) -> None:
    args = case.make_inputs()
    first = case.call(args).clone()
    other = np.asarray(case.ex.extra["other_positions"])
    case.call(case.make_inputs(positions=other))  # may grow a cache
    again = case.call(args)
    if not bitwise_equal(first, again):
        diff = np.abs(difference(first, again))
        case.fail(f"two calls with equal inputs differ (max |diff| {np.nanmax(diff):.3g}), "
                  f"with a call at positions {other.tolist()} in between")


def _environment(impl, dtype):
    envs = family_module(impl).CASE.environments(dtype)
    return examples(impl, dtype, extra=lambda draw, ex: {"environment": draw(st.sampled_from(envs), label="env")})


@universal("impl.environment", examples=_environment)
def test_environment(case: Case) -> None:
    """A freshly built kernel, called twice in the environment: first a prefill at positions
    0..max(drawn) (one row; the drawn positions themselves when that would be longer than
    ambient.ENVIRONMENT_PREFILL), then the drawn call, which a caching kernel may serve from
    what the first call cached."""
    env = case.ex.extra["environment"]
    fn = built_for(case, env)
    (first_label, p0), (second_label, p) = environment_calls(case.positions)
    calls = ((first_label, case.make_inputs(positions=p0, seed=case.ex.seed + 1, lead=(1,) * len(case.ex.lead))),
             (second_label, case.make_inputs()))
    for label, args in calls:
        with ambient(env, args):
            y = case.call(args, fn)
        case.expect_reference(y, args, f"under {env}, {label} leaves the tolerance model")


def _fresh_examples(impl, dtype):
    return examples(impl, dtype, extra=lambda draw, ex: {"process": "fresh"})


def _loaded_from_target(impl) -> str | None:
    if not getattr(impl, "target", None):
        return (f"{outcomes.NOT_VERIFIED}: {impl.name} was not loaded from a target ('file.py:name' or "
                "'module:name'), so a fresh interpreter cannot load it")
    return None


@universal("impl.environment#fresh-process", examples=_fresh_examples, dtypes=("float32",),
           applies=_loaded_from_target, max_examples=1)
def test_environment_fresh_process(case: Case) -> None:
    """The kernel's first use in a fresh interpreter that set the bf16 default dtype before importing
    it (pe_properties.fresh): one call at the drawn positions, the regime centres below max_position
    and the cache edge, so a first-use cache is built under that default and read at once."""
    import json

    top = case.cfg.max_position - 1
    at = sorted({*map(int, case.positions), *(c for c in REGIMES if c < top), top})
    args = case.make_inputs(positions=np.asarray(at, dtype=np.int64))
    done = fresh.first_call(case.impl.target, json.dumps(case.ex.config), args)
    label = "in a fresh interpreter that set the bf16 default dtype before importing the kernel, its first call"
    if done.error:
        case.fail(f"{label} failed: {done.error}")
    shape = case.expected_output(args)[0]
    if not isinstance(done.output, torch.Tensor) or tuple(done.output.shape) != tuple(shape):
        got = tuple(done.output.shape) if isinstance(done.output, torch.Tensor) else type(done.output).__name__
        case.fail(f"{label} returned {got}, where the contract prescribes {tuple(shape)}")
    case.expect_reference(done.output, args, f"{label} leaves the tolerance model (a cache built at first use "
                                             "under the default dtype)")


_COMPILED: dict = {}
# Each configuration, dtype and input rank is a compilation of its own (seconds each on a CPU): the
# compile check draws the family's compile_examples (one configuration, one rank, no size-1 dims,
# which dynamo would specialise) and a few examples varying positions and sizes.
COMPILE_EXAMPLES = 6
# Compiled versions allowed per test: one, and one to spare. A kernel whose guards fail on every
# call (state it keeps in Python ints, recompiling each time) has its first ones checked and the
# rest reported as not verified, instead of dynamo's silent fallback to eager past its limit.
RECOMPILE_LIMIT = 2


def _compilable(impl) -> str | None:
    if impl.get("compile") is False:
        return f"{outcomes.NOT_APPLICABLE}: {impl.name} declares compile=False"
    return None


def _compile_examples(impl, dtype):
    return family_module(impl).compile_examples(impl, dtype)


def _compiled(case: Case, args) -> object:
    """The test's torch.compile'd kernel, one per configuration, dtype and input rank, compiled
    from a clean dynamo state (so one test's recompilations do not count against the next)."""
    key = (id(case.impl), case.cfg, case.ex.dtype, tuple(a.dim() for a in args))
    if key not in _COMPILED:
        torch._dynamo.reset()
        _COMPILED.clear()
        _COMPILED[key] = torch.compile(case.fn, dynamic=True)
    return _COMPILED[key]


@contextlib.contextmanager
def fresh_compilations():
    """Within it, impl.compile compiles afresh, as in a new process (a replayed example must not
    reuse what an earlier example compiled)."""
    torch._dynamo.reset()
    _COMPILED.clear()
    try:
        yield
    finally:
        torch._dynamo.reset()
        _COMPILED.clear()


@contextlib.contextmanager
def _every_call_compiled():
    """Dynamo runs a function uncompiled once it has recompiled it recompile_limit times, silently:
    make that an error (FailOnRecompileLimitHit), and do not guard on sizes that merely coincide."""
    import torch._dynamo.config as dynamo
    import torch.fx.experimental._config as fx

    with dynamo.patch(recompile_limit=RECOMPILE_LIMIT, fail_on_recompile_limit_hit=True), \
            fx.patch(use_duck_shape=False):
        yield


@universal("impl.compile", examples=_compile_examples, applies=_compilable, max_examples=COMPILE_EXAMPLES)
def test_compile(case: Case) -> None:
    from torch._dynamo.exc import FailOnRecompileLimitHit

    args = case.make_inputs()
    try:
        with _every_call_compiled():
            y = case.invoke(args, _compiled(case, args), what="compiled")
    except FailOnRecompileLimitHit:
        raise outcomes.not_verified(f"torch.compile recompiles the kernel on nearly every call (its guards on the "
                                    f"kernel's state fail), and past {RECOMPILE_LIMIT} compiled versions dynamo "
                                    "would run it uncompiled: only the first examples ran compiled") from None
    except Exception as e:
        raise outcomes.not_verified(f"torch.compile could not compile the kernel: {type(e).__name__}: "
                                    f"{str(e).splitlines()[0] if str(e) else ''}") from None
    case.expect_reference(y, args, "the torch.compile'd kernel leaves the tolerance model")


@universal("impl.no-aliasing", examples=examples)
def test_no_aliasing(case: Case) -> None:
    """The output shares no memory with an input, and writing into it does not change what the
    next call returns (an output that is a view of the kernel's cached table). A kernel that writes
    its result into x and returns x fails here too: at positions 0 its write leaves x's values as
    they were, so call() has nothing to restore and hands back x itself."""
    for label, args in case.aliasing_calls():
        y = case.call(args)
        for name, t in zip(case.INPUTS, args):
            if shares_memory(y, t):
                case.fail(f"{label} the output shares memory with the input {name} (it is {name}, or a view of it)")
        kept = y.detach().clone()
        try:
            with torch.no_grad():
                y.detach().fill_(float("nan"))     # what a caller's in-place update may do to it
        except RuntimeError as e:
            case.fail(f"{label} the output cannot be written in place ({' '.join(str(e).split())[:200]}): "
                      "callers scale and add into it")
        again = case.call(args)
        if not bitwise_equal(again, kept):
            case.fail(f"{label} writing into the returned tensor changed what the next call returns: the "
                      "output is a view of state the kernel keeps (a cached table)")


def accelerators() -> list[str]:
    devs = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devs.append("mps")
    return devs


def _declared_device(impl, dev: str) -> bool:
    declared = impl.get("devices")
    return declared is None or dev.split(":")[0] in declared or dev in declared


def _has_accelerator(impl) -> str | None:
    if not accelerators():
        return (f"{outcomes.NOT_VERIFIED}: only one device (cpu) is available; device.agreement needs an "
                "accelerator")
    if not any(_declared_device(impl, d) for d in accelerators()):
        return f"{outcomes.NOT_APPLICABLE}: {impl.name} declares devices={impl.get('devices')}"
    return None


@universal("device.agreement", examples=examples, applies=_has_accelerator)
def test_device_agreement(case: Case) -> None:
    args = case.make_inputs()
    y_cpu = case.call(args)
    case.expect_reference(y_cpu, args, "on cpu the output leaves the tolerance model")
    for dev in accelerators():
        if not _declared_device(case.impl, dev):
            continue
        fn, dev_args = case.on_device(dev, args)
        y = case.call(dev_args, fn)
        if y.device.type != torch.device(dev).type:
            case.fail(f"on {dev} the output came back on {y.device}")
        case.expect_reference(y, args, f"on {dev} the output leaves the tolerance model")
        case.expect_agree(y, y_cpu, args, f"{dev} and cpu outputs disagree beyond the tolerance model")


def _declares_counterpart(impl) -> str | None:
    if impl.get("counterpart") is None:
        return f"{outcomes.NOT_APPLICABLE}: {impl.name} declares no counterpart"
    return None


@universal("device.counterpart", examples=examples, applies=_declares_counterpart)
def test_device_counterpart(case: Case) -> None:
    """The kernel against the eager path it replaces, on the same inputs and device, within the
    arithmetic allowance only (both read the same cos/sin, so the angle term is shared)."""
    other = case.counterpart()
    declared = other.get("dtypes")
    if declared is not None and case.ex.dtype not in declared:
        raise outcomes.not_verified(f"the counterpart {other.name} does not declare dtype {case.ex.dtype}")
    try:
        other_fn = other.build(case.cfg)
    except Unsupported:
        outcomes.record_unsupported()
        reject()
    except Exception as e:
        case.fail(f"the counterpart {other.name}'s factory raised {type(e).__name__}: {e}")
    devices = [d for d in ["cpu", *accelerators()] if _declared_device(case.impl, d) and _declared_device(other, d)]
    if not devices:
        raise outcomes.not_verified(f"no device here is declared by both {case.impl.name} and {other.name}")
    args = case.make_inputs()
    for dev in devices:
        dev_args = tuple(a.to(dev) for a in args)
        y = case.call(dev_args)
        try:
            y_other = case.invoke(dev_args, other_fn)
        except Exception as e:
            case.fail(f"on {dev} the counterpart {other.name} raised {type(e).__name__}: {e}")
        shape = case.expected_output(dev_args)[0]
        if not isinstance(y_other, torch.Tensor) or tuple(y_other.shape) != tuple(shape):
            case.fail(f"on {dev} the counterpart {other.name} returned "
                      f"{tuple(y_other.shape) if isinstance(y_other, torch.Tensor) else type(y_other).__name__}")
        case.expect_counterpart(y, y_other, args, f"on {dev} the kernel and its counterpart {other.name} disagree "
                                "beyond the arithmetic allowance")

