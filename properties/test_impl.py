"""Property tests every kernel must pass whatever it encodes: impl.* and device.*.

They are written against the RoPE calling convention fn(x, positions); other families add
their own case type here as they land.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from hypothesis import reject
from hypothesis import strategies as st

from pe_spec import outcomes, tolerance
from pe_spec.contract import ContractError, Unsupported
from pe_spec.rope.contract import resolve_counterpart

from .harness import built_under_bf16_default, environment_calls, property_test
from .rope_case import RopeCase, bitwise_equal, difference
from .strategies import positions as positions_strategy
from .strategies import config_pool, rope_examples


def _rows(case: RopeCase) -> tuple[int, ...]:
    """Leading dims with at least two rows, so there is something to permute."""
    lead = case.ex.lead
    return lead if int(np.prod(lead)) >= 2 else (2, *lead)


@property_test("impl.no-mutation", RopeCase, examples=rope_examples)
def test_no_mutation(case: RopeCase) -> None:
    x, p = case.make_x(), case.positions_tensor()
    x_before, p_before = x.clone(), p.clone()
    case.call(x, p, restore=False)
    if not torch.equal(x, x_before):
        changed = int((x != x_before).sum())
        case.fail(f"the kernel wrote into its input x ({changed} of {x.numel()} elements changed)")
    if not torch.equal(p, p_before):
        case.fail("the kernel wrote into its positions tensor")


@property_test("impl.dtype-shape", RopeCase, examples=rope_examples)
def test_dtype_shape(case: RopeCase) -> None:
    x = case.make_x()
    y = case.call(x, case.positions_tensor())
    if y.dtype != x.dtype:
        case.fail(f"output dtype {y.dtype} differs from input dtype {x.dtype}")
    if y.device != x.device:
        case.fail(f"output device {y.device} differs from input device {x.device}")


@property_test("impl.batch-independence", RopeCase, examples=rope_examples)
def test_batch_independence(case: RopeCase) -> None:
    lead = _rows(case)
    x, p = case.make_x(lead=lead), case.positions_tensor()
    y = case.call(x, p)
    flat_x, flat_y = x.reshape(-1, *x.shape[-2:]), y.reshape(-1, *y.shape[-2:])
    perm = torch.from_numpy(np.random.default_rng(case.ex.seed).permutation(flat_x.shape[0]))
    y_perm = case.call(flat_x[perm].reshape(x.shape), p).reshape(flat_y.shape)
    alone = case.call(flat_x[-1:].reshape(*([1] * (x.dim() - 2)), *x.shape[-2:]), p).reshape(1, *x.shape[-2:])
    allowed = 2 * case.allowed(flat_x, case.positions, include_phase=False)
    case.measure(case.pair_norms(difference(y_perm, flat_y[perm])), allowed[perm.numpy()],
                 "permuting the (batch, head) rows did not permute the output", case.positions)
    case.measure(case.pair_norms(difference(alone, flat_y[-1:])), allowed[-1:],
                 "the last row computed alone differs from the same row in the batch", case.positions)


def _non_contiguous(case: RopeCase, kind: str) -> torch.Tensor:
    """A view with the same values as make_x() but non-contiguous storage."""
    x = case.make_x(lead=_rows(case))
    if kind == "transposed":      # stored [..., seq, heads, dim], viewed [..., heads, seq, dim]
        return x.transpose(-2, -3).contiguous().transpose(-2, -3) if x.dim() >= 3 else x.t().contiguous().t()
    if kind == "strided-seq":     # every other row of a longer buffer
        buf = torch.zeros(*x.shape[:-2], 2 * x.shape[-2], x.shape[-1], dtype=x.dtype, device=x.device)
        buf[..., ::2, :] = x
        return buf[..., ::2, :]
    # packed-qkv: the k slice of a [..., seq, 3 * head_dim] projection output
    d = x.shape[-1]
    buf = torch.zeros(*x.shape[:-1], 3 * d, dtype=x.dtype, device=x.device)
    buf[..., d:2 * d] = x
    return buf[..., d:2 * d]


@property_test("impl.stride-invariance", RopeCase,
               examples=lambda impl, dt: rope_examples(impl, dt, extra=lambda draw, ex: {
                   "layout": draw(st.sampled_from(["packed-qkv", "transposed", "strided-seq"]), label="view")}))
def test_stride_invariance(case: RopeCase) -> None:
    view = _non_contiguous(case, case.ex.extra["layout"])
    p = case.positions_tensor()
    y_view = case.call(view, p)
    y_contig = case.call(view.contiguous(), p)
    case.measure(case.pair_norms(difference(y_view, y_contig)),
                 2 * case.allowed(view, case.positions, include_phase=False),
                 f"a non-contiguous ({case.ex.extra['layout']}) input gives a different result", case.positions)


def _other_positions(draw, ex) -> dict:
    seq = draw(st.integers(1, 8), label="other_seq")
    return {"other_positions": list(draw(positions_strategy(ex.config["max_position"], seq), label="other"))}


@property_test("impl.determinism", RopeCase,
               examples=lambda impl, dt: rope_examples(impl, dt, extra=_other_positions))
def test_determinism(case: RopeCase) -> None:
    x, p = case.make_x(), case.positions_tensor()
    first = case.call(x, p).clone()
    other = np.asarray(case.ex.extra["other_positions"])
    case.call(case.make_x(seq=len(other)), case.positions_tensor(other))  # may grow a cache
    again = case.call(x, p)
    if not bitwise_equal(first, again):
        diff = np.abs(difference(first, again))
        case.fail(f"two calls with equal inputs differ (max |diff| {np.nanmax(diff):.3g}), "
                  f"with a call at positions {other.tolist()} in between")


def _environment(draw, ex) -> dict:
    # Ambient autocast is how fp32 models meet bf16 (mixed precision); half-precision inputs
    # under a bf16 autocast are not a real configuration (and CPU autocast rejects fp16 cat).
    envs = ["autocast-bf16", "default-dtype-bf16"] if ex.dtype == "float32" else ["default-dtype-bf16"]
    return {"environment": draw(st.sampled_from(envs), label="env")}


def _built_for(case: RopeCase, env: str):
    """A fresh build (no state left by other clauses); for default-dtype-bf16, built under it."""
    return built_under_bf16_default(case) if env == "default-dtype-bf16" else case.build(fresh=True)


def _ambient(env: str, device: torch.device):
    if env == "autocast-bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@property_test("impl.environment", RopeCase, examples=lambda impl, dt: rope_examples(impl, dt, extra=_environment))
def test_environment(case: RopeCase) -> None:
    """A freshly built kernel, called twice in the environment: first a prefill at positions
    0..max(drawn) (one row; the drawn positions themselves when that would be longer than
    harness.ENVIRONMENT_PREFILL), then the drawn call, which a caching kernel may serve from
    what the first call cached."""
    env = case.ex.extra["environment"]
    fn = _built_for(case, env)
    (first_label, p0), second = environment_calls(case.positions)
    calls = ((first_label, p0, case.make_x(seed=case.ex.seed + 1, lead=(1,) * len(case.ex.lead), seq=len(p0))),
             (*second, case.make_x()))
    for label, p, x in calls:
        with _ambient(env, case.device):
            y = case.call(x, case.positions_tensor(p), fn=fn)
        case.expect_reference(y, x, p, f"under {env}, {label} leaves the tolerance model")


_COMPILED: dict = {}
# Each configuration and dtype is a separate compilation (seconds each on a CPU): the compile
# check uses one pooled configuration, the one serving the longest context (so positions reach
# every regime), and a few examples varying positions and shapes.
COMPILE_EXAMPLES = 6


def _compilable(impl) -> str | None:
    if impl.get("compile") is False:
        return f"not applicable: {impl.name} declares compile=False"
    return None


def _compile_examples(impl, dtype):
    pool = config_pool(impl)
    return rope_examples(impl, dtype, config=st.just(max(pool, key=lambda c: c["max_position"])))


@property_test("impl.compile", RopeCase, examples=_compile_examples, applies=_compilable,
               max_examples=COMPILE_EXAMPLES)
def test_compile(case: RopeCase) -> None:
    key = (id(case.impl), case.cfg)
    if key not in _COMPILED:
        _COMPILED[key] = torch.compile(case.fn, dynamic=True)
    x = case.make_x()
    try:
        y = case.invoke(x, case.positions_tensor(), fn=_COMPILED[key])
    except Exception as e:
        pytest.skip(f"not verified: torch.compile could not compile the kernel: {type(e).__name__}: "
                    f"{str(e).splitlines()[0] if str(e) else ''}")
    case.expect_reference(y, x, case.positions, "the torch.compile'd kernel leaves the tolerance model")


def accelerators() -> list[str]:
    devs = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devs.append("mps")
    return devs


def _has_accelerator(impl) -> str | None:
    declared = impl.get("devices")
    devs = [d for d in accelerators() if declared is None or d.split(":")[0] in declared or d in declared]
    if not devs:
        return ("not verified: only one device (cpu) is available; device.agreement needs an accelerator"
                if not accelerators() else f"not applicable: {impl.name} declares devices={declared}")
    return None


@property_test("device.agreement", RopeCase, examples=rope_examples, applies=_has_accelerator)
def test_device_agreement(case: RopeCase) -> None:
    x, p = case.make_x(), case.positions
    y_cpu = case.call(x, case.positions_tensor(p))
    case.expect_reference(y_cpu, x, p, "on cpu the output leaves the tolerance model")
    for dev in accelerators():
        xd, pd = x.to(dev), torch.as_tensor(p, device=dev)
        y = case.call(xd, pd)
        if y.device != xd.device:
            case.fail(f"on {dev} the output came back on {y.device}")
        case.expect_reference(y, x, p, f"on {dev} the output leaves the tolerance model")
        case.measure(case.pair_norms(difference(y, y_cpu)), case.allowed(x, p) * 2,
                     f"{dev} and cpu outputs disagree beyond the tolerance model", p)


def _declares_counterpart(impl) -> str | None:
    if impl.get("counterpart") is None:
        return f"not applicable: {impl.name} declares no counterpart"
    return None


def _devices_for(*impls) -> list[str]:
    """cpu and every accelerator present, less those a declared `devices` leaves out."""
    out = []
    for dev in ["cpu", *accelerators()]:
        if all(i.get("devices") is None or dev.split(":")[0] in i.get("devices") or dev in i.get("devices")
               for i in impls):
            out.append(dev)
    return out


@property_test("device.counterpart", RopeCase, examples=rope_examples, applies=_declares_counterpart)
def test_device_counterpart(case: RopeCase) -> None:
    """The kernel against the eager path it replaces, on the same input, positions and device, within
    the arithmetic allowance only (both read the same cos/sin, so the angle term is shared)."""
    try:
        other = resolve_counterpart(case.impl)
    except ContractError as e:
        case.fail(str(e))
    declared = other.get("dtypes")
    if declared is not None and case.ex.dtype not in declared:
        pytest.skip(f"not verified: the counterpart {other.name} does not declare dtype {case.ex.dtype}")
    try:
        other_fn = other.build(case.cfg)
    except Unsupported:
        outcomes.record_unsupported()
        reject()
    except Exception as e:
        case.fail(f"the counterpart {other.name}'s factory raised {type(e).__name__}: {e}")
    devices = _devices_for(case.impl, other)
    if not devices:
        pytest.skip(f"not verified: no device here is declared by both {case.impl.name} and {other.name}")
    x, p = case.make_x(), case.positions
    r = case.cfg.rotary_dim
    allowed = tolerance.arithmetic_allowance(case.pair_norms(x), case.ex.dtype)
    for dev in devices:
        xd, pd = x.to(dev), torch.as_tensor(p, device=dev)
        y = case.call(xd, pd)
        try:
            y_other = case.invoke(xd, pd, fn=other_fn)
        except Exception as e:
            case.fail(f"on {dev} the counterpart {other.name} raised {type(e).__name__}: {e}")
        if not isinstance(y_other, torch.Tensor) or tuple(y_other.shape) != tuple(x.shape):
            case.fail(f"on {dev} the counterpart {other.name} returned "
                      f"{tuple(y_other.shape) if isinstance(y_other, torch.Tensor) else type(y_other).__name__}")
        case.measure(case.pair_norms(difference(y, y_other)), allowed,
                     f"on {dev} the kernel and its counterpart {other.name} disagree beyond the arithmetic "
                     "allowance", p)
        if r < x.shape[-1] and np.any(difference(y[..., r:], y_other[..., r:]) != 0):
            case.fail(f"on {dev} the pass-through channels (>= {r}) differ from the counterpart {other.name}'s")


def _shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether the storages behind a and b overlap (a view, or the tensor itself)."""
    if a.device != b.device or a.numel() == 0 or b.numel() == 0:
        return False
    sa, sb = a.untyped_storage(), b.untyped_storage()
    return sa.data_ptr() < sb.data_ptr() + sb.nbytes() and sb.data_ptr() < sa.data_ptr() + sa.nbytes()


@property_test("impl.no-aliasing", RopeCase, examples=rope_examples)
def test_no_aliasing(case: RopeCase) -> None:
    """At the drawn positions and at positions all 0, where a shortcut might hand back x itself.
    A kernel that writes its result into x and returns x fails here too: at positions 0 its write
    leaves x's values as they were, so call() has nothing to restore and hands back x itself."""
    x = case.make_x()
    for label, p in (("at the drawn positions", case.positions),
                     ("at positions all 0 (the rotation is the identity)", np.zeros_like(case.positions))):
        pt = case.positions_tensor(p)
        y = case.call(x, pt)
        for name, t in (("x", x), ("positions", pt)):
            if _shares_memory(y, t):
                case.fail(f"{label} the output shares memory with the input {name} (it is {name}, or a view of it)")
