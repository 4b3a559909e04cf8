"""What the RoPE family adds to the published pages (hooks: pe_spec.publish.hooks).

Its page: the channel layouts and the frequency schedule before the clauses, RoFormer's
long-term decay after them. The tolerance page: the worked example of the per-pair model (why
per pair, why a naive atol fails, a worked table, where the allowance becomes vacuous, a plot).
The landing page: a real failure of a kernel with bf16 inverse frequencies. The property
matrix: RoPE's row (R(p) acting on fixed vectors), its axial 2-D construction, its curves of the
dot-product-against-offset plot.
"""
from __future__ import annotations

import inspect
import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from pe_spec.families.rope import conventions
from pe_spec.families.rope import reference as R
from pe_spec.publish import markdown as md
from pe_spec.publish.hooks import FailureExample, OffsetCurve
from pe_spec.publish.matrix import Encoding, Notation

PLOTS = ("plots/tolerance_per_pair.png", "plots/long_term_decay.png")

PAGE_ROTARY_DIM = 8                 # the conventions and frequencies shown on the page
DECAY_ROTARY_DIM, DECAY_BASE = 128, 10000.0

# The worked example of the tolerance page: a Llama-style configuration.
ROTARY_DIM, BASE = 128, 10000.0
HIGH_PAIR = 1                       # w_0 = 1 is exact in bf16, so pair 1 is the fastest the bug shows in
LOW_PAIR = ROTARY_DIM // 2 - 1      # the slowest pair
WORKED_POSITIONS = (2**11, 2**16, 2**20, 2**24)
WORKED_DTYPES = ("float32", "bfloat16", "float16")
NAIVE_ATOL = 1e-5                   # the tolerance a hand-written test typically picks

MATRIX_BASE = 10000.0
OFFSET_SAMPLES, OFFSET_SEED = 256, 0
OFFSET_BASE_POSITIONS = (0, 10**6)  # the average at two base positions: the same curve


# --------------------------------------------------------------------------------------------
# the family page

def page_sections(ctx: Any) -> list[str]:
    """Conventions (pair channels, the permutation between layouts) and the frequencies."""
    from pe_spec.families.rope import symbolic

    d = PAGE_ROTARY_DIM
    out = ["## Conventions", "", f"From {md.module_link(conventions.__name__)}:", ""]
    out += md.code("text", inspect.cleandoc(conventions.__doc__)) + [""]
    rows = []
    for layout in conventions.ROTARY_LAYOUTS:
        first, second = conventions.pair_channels(layout, d)
        rows.append([f"`{layout}`"] + [f"({a}, {b})" for a, b in zip(first.tolist(), second.tolist())])
    out += [f"Pair channels for rotary_dim = {d} (`pair_channels(layout, {d})`):", ""]
    out += md.table(["layout"] + [f"pair {i}" for i in range(d // 2)], rows) + [""]
    P = conventions.interleaved_to_half(d)
    out += [f"The permutation between them, `interleaved_to_half({d})`:", "",
            f"`P = {P.tolist()}`, and back: `permutation('half', 'interleaved', {d}) = "
            f"{conventions.permutation('half', 'interleaved', d).tolist()}`.", "",
            md.esc(md.paragraph(inspect.getdoc(conventions.interleaved_to_half), 1)), "",
            "Channels from rotary_dim to head_dim - 1 are not rotated (partial rotary).", "",
            "## Frequencies", ""]
    w = R.inverse_frequencies(d, 10000.0)
    schedule = f"{symbolic.__name__}.frequency_schedule"
    out += [f"`{R.__name__}.inverse_frequencies`: {md.esc(md.paragraph(R.inverse_frequencies.__doc__))} "
            f"Pair i at position p is rotated by the angle p · w_i "
            f"(`{R.__name__}.angles`: {md.esc(md.paragraph(R.angles.__doc__))}).", "",
            f"In sympy, `{schedule}`: "
            f"{md.esc(md.paragraph(symbolic.frequency_schedule.__doc__))} "
            f"{md.esc(md.paragraph(symbolic.frequency_schedule.__doc__, 1))} "
            f"Verdict: {ctx.verdicts.markdown(schedule)}.", "",
            f"For rotary_dim = {d}, base = 10000: "
            + ", ".join(f"w_{i} = {v:.9g}" for i, v in enumerate(w.tolist())) + ".", "",
            f"The reference ({md.module_link(R.__name__)}): {md.esc(md.paragraph(R.__doc__))}", ""]
    return out


def _decay_data() -> dict[str, Any]:
    from pe_spec.families.rope.symbolic import long_term_decay_bound

    r_lin = np.arange(0, 257, dtype=np.float64)
    r_log = np.unique(np.round(np.logspace(0, 20, 400, base=2)))
    at_zero = float(long_term_decay_bound(np.zeros(1), DECAY_ROTARY_DIM, DECAY_BASE)[0])
    lin = long_term_decay_bound(r_lin, DECAY_ROTARY_DIM, DECAY_BASE) / at_zero
    log = long_term_decay_bound(r_log, DECAY_ROTARY_DIM, DECAY_BASE) / at_zero
    return {"r_lin": r_lin, "r_log": r_log, "lin": lin, "log": log, "at_zero": at_zero,
            "fingerprint": md.fingerprint(r_lin, lin, r_log, log, [at_zero])}


def page_appendix(ctx: Any) -> list[str]:
    """RoFormer's long-term decay bound: background, not a clause."""
    from pe_spec.families.rope import symbolic

    decay = _decay_data()
    return ["## Long-term decay (background, not a clause)", "",
            f"`long_term_decay_bound`: {md.esc(md.paragraph(symbolic.long_term_decay_bound.__doc__))} "
            f"The identity behind it, `long_term_decay_identity`, is "
            f"{ctx.verdicts.markdown(f'{symbolic.__name__}.long_term_decay_identity')}.", "",
            "![RoFormer long-term decay bound](plots/long_term_decay.png)", "",
            f"*The bound for rotary_dim = {DECAY_ROTARY_DIM}, base = {DECAY_BASE:g}, **normalised by its value at "
            f"relative distance 0**, which is (d/2 + 1)/2 = {decay['at_zero']:g} (the bound is not 1 there). "
            f"Left: distances 0 to {int(decay['r_lin'][-1])} (RoFormer Figure 2); right: log scale to "
            f"{md.pow2(float(decay['r_log'][-1]))}.*", ""] + md.fingerprint_comment(decay["fingerprint"])


# --------------------------------------------------------------------------------------------
# the tolerance page's worked example

def _round_to_bf16(x: np.ndarray) -> np.ndarray:
    """float64 -> float32 -> bfloat16 (round to nearest even), back to float64."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32).astype(np.float64)


def _bug_error(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The bf16-inverse-frequency bug: relative angle error ~u_bf16, displacement min(dphi, 2)."""
    from pe_spec.spec.dtypes import UNIT_ROUNDOFF
    from pe_spec.spec.tolerance import MAX_PHASE_DISPLACEMENT

    dphi = UNIT_ROUNDOFF["bfloat16"] * np.abs(np.asarray(p, np.float64))[..., None] * np.atleast_1d(w)
    return np.minimum(dphi, MAX_PHASE_DISPLACEMENT)


def _fp32_angle_error(p: np.ndarray, rotary_dim: int, base: float) -> np.ndarray:
    """Displacement / ||x_pair|| of a CORRECT fp32 angle: fl32(fl32(p) * fl32(w_i)), w_i correctly rounded."""
    w32 = R.inverse_frequencies(rotary_dim, base).astype(np.float32)
    p = np.asarray(p, dtype=np.int64)
    theta32 = (p.astype(np.float32)[..., None] * w32).astype(np.float64)
    return 2 * np.abs(np.sin(R.angle_error(theta32, p, rotary_dim, base) / 2))


def _tolerance_plot_data() -> dict[Any, Any]:
    from pe_spec.publish.docs.tolerance_page import relative_allowance

    w = R.inverse_frequencies(ROTARY_DIM, BASE)
    p = np.unique(np.round(np.logspace(0, 31, 250, base=2)).astype(np.int64))
    data: dict[Any, Any] = {"p": p, "w": w, "pairs": (HIGH_PAIR, LOW_PAIR)}
    for i in (HIGH_PAIR, LOW_PAIR):
        for dt in WORKED_DTYPES:
            data[(i, dt)] = relative_allowance(p, w[i], dt)[..., 0]
        data[(i, "bug")] = _bug_error(p, w[i])[..., 0]
        data[(i, "fp32")] = _fp32_angle_error(p, ROTARY_DIM, BASE)[..., i]
    data["fingerprint"] = md.fingerprint(p, *(data[k] for k in data if isinstance(k, tuple)))
    return data


def tolerance_sections(ctx: Any) -> list[str]:
    return _why_per_pair() + _naive_atol() + _worked_table() + _vacuity() + _tolerance_plot_section()


def _why_per_pair() -> list[str]:
    from pe_spec.publish.docs.tolerance_page import relative_allowance

    w = R.inverse_frequencies(ROTARY_DIM, BASE)
    p24 = np.array([2**24])
    global_bound = float(relative_allowance(p24, w[HIGH_PAIR], "float32")[0, 0])
    low_allow = float(relative_allowance(p24, w[LOW_PAIR], "float32")[0, 0])
    low_bug = float(_bug_error(p24, w[LOW_PAIR])[0, 0])
    return ["## Why per pair", "",
            "Each pair rotates at its own frequency, so its angle, and the rounding error of that angle, grows "
            "with p · w_i: for rotary_dim = "
            f"{ROTARY_DIM}, base = {BASE:g} the frequencies span w_0 = {w[0]:g} to w_{LOW_PAIR} = {w[LOW_PAIR]:.3g}, "
            f"a factor {w[0] / w[LOW_PAIR]:.3g}. One bound sized for the fastest pair at long context is vacuous for "
            f"the slow ones: at p = 2^24, pair {HIGH_PAIR}'s fp32 allowance is {md.g(global_bound)} ||x_i|| "
            "(any rotation passes), while pair "
            f"{LOW_PAIR}'s is {md.g(low_allow)} ||x_i||. A bf16 inverse-frequency bug moves pair {LOW_PAIR} by "
            f"{md.g(low_bug)} ||x_i|| there: {low_bug / low_allow:.3g} times its own allowance, but inside the "
            "global one.", ""]


def _naive_atol() -> list[str]:
    from pe_spec.publish.docs.tolerance_page import relative_allowance

    w = R.inverse_frequencies(ROTARY_DIM, BASE)
    p20 = np.array([2**20])
    err = _fp32_angle_error(p20, ROTARY_DIM, BASE)[0]
    allow = relative_allowance(p20, w, "float32")[0]
    i_max = int(np.argmax(err))
    step = 10.0 ** (math.floor(math.log10(err[i_max])) - 1)
    loose = float(md.g(math.ceil(err[i_max] / step) * step))   # the smallest 2-digit atol the kernel passes
    hidden = [p for p in WORKED_POSITIONS if _bug_error(np.array([p]), w[LOW_PAIR])[0, 0] < loose]
    return ["## Why a naive atol fails correct fp32 kernels at 2^20", "",
            f"A correct fp32 kernel rounds w_i to fp32 and forms the angle as one fp32 product fl(p · w_i). At "
            f"p = 2^20 the angle of pair {i_max} is {2**20 * w[i_max]:.6g} rad, whose fp32 spacing is "
            f"{md.g(np.spacing(np.float32(2**20 * w[i_max])))}; rounding it alone (computed here in numpy, with w_i "
            f"correctly rounded, the best an fp32 kernel can do) moves that pair by {md.g(err[i_max])} ||x_i||. "
            f"With ||x_i|| ~ 1 that is {err[i_max] / NAIVE_ATOL:.3g} times `atol={NAIVE_ATOL:g}`, so a naive "
            "test rejects every correct fp32 kernel at long context; loosening it to "
            f"`atol={loose:g}` to pass them lets the bf16 inverse-frequency bug through in pair {LOW_PAIR} at "
            + (", ".join(md.pow2(p) for p in hidden) if hidden else "none of the positions below")
            + " (see the worked table). The model allows "
            f"{md.g(allow[i_max])} ||x_i|| for that pair (observed/allowed = {err[i_max] / allow[i_max]:.3g}); over "
            f"all {ROTARY_DIM // 2} pairs the worst ratio is {float(np.max(err / allow)):.3g}.", ""]


def _worked_table() -> list[str]:
    from pe_spec.publish.docs.tolerance_page import relative_allowance
    from pe_spec.spec import tolerance as T
    from pe_spec.spec.dtypes import UNIT_ROUNDOFF

    w = R.inverse_frequencies(ROTARY_DIM, BASE)
    ubf = UNIT_ROUNDOFF["bfloat16"]
    out = ["## Worked table", "",
           f"Allowed error per pair relative to ||x_i|| (floor F excluded) for rotary_dim = {ROTARY_DIM}, "
           f"base = {BASE:g}, next to the error of a kernel that stores its inverse frequencies in bf16 "
           f"(relative angle error ~u_bf16 = {md.pow2(ubf)}, displacement min(u_bf16 · p · w_i, "
           f"{T.MAX_PHASE_DISPLACEMENT:g})). `2 + A` in a cell means the phase term is capped: any rotation passes. "
           "A ratio in bold is > 1: the bug is caught in that dtype at that position.", ""]
    hdr = ["pair i", "w_i", "p", "p · w_i (rad)"] + [f"allowed {dt}" for dt in WORKED_DTYPES] \
        + ["bf16-inv-freq bug"] + [f"bug / allowed {dt}" for dt in WORKED_DTYPES]
    rows = []
    pos = np.array(WORKED_POSITIONS)
    for i in (HIGH_PAIR, LOW_PAIR):
        allowed = {dt: relative_allowance(pos, w[i], dt)[:, 0] for dt in WORKED_DTYPES}
        bug = _bug_error(pos, w[i])[:, 0]
        for k, p in enumerate(WORKED_POSITIONS):
            cells = []
            for dt in WORKED_DTYPES:
                cap = T.phase_bound(pos[k:k + 1], np.array([w[i]]), dt)[0, 0] >= T.MAX_PHASE_DISPLACEMENT
                cells.append(f"2 + A ({md.g(allowed[dt][k])})" if cap else md.g(allowed[dt][k]))
            rows.append([str(i), f"{w[i]:.4g}", md.pow2(p), md.g(p * w[i])] + cells + [md.g(bug[k])]
                        + [md.ratio(bug[k] / allowed[dt][k]) for dt in WORKED_DTYPES])
    out += md.table(hdr, rows) + [""]
    actual = [abs(_round_to_bf16(w[i]) - w[i]) / w[i] for i in (HIGH_PAIR, LOW_PAIR)]
    same_phase = all(T.compute_roundoff(dt) == T.compute_roundoff(WORKED_DTYPES[0]) for dt in WORKED_DTYPES)
    out += [f"Rounding these two frequencies to bf16 actually gives relative errors {md.g(actual[0])} "
            f"(pair {HIGH_PAIR}) and {md.g(actual[1])} (pair {LOW_PAIR}), within the model's u_bf16 = {md.g(ubf)}. "
            + ("The phase term is the same for all three dtypes (u_c is fp32's for each); bf16 and fp16 outputs "
               "only add a larger amplitude term A, so in a slow pair at short context a bf16 output hides the bug "
               "(ratio < 1 above) and the fp32 examples catch it." if same_phase else
               "The compute roundoff u_c differs between these dtypes, so their phase terms differ."), ""]
    return out


def _vacuity() -> list[str]:
    from pe_spec.spec import tolerance as T
    from pe_spec.spec.dtypes import UNIT_ROUNDOFF

    w = R.inverse_frequencies(ROTARY_DIM, BASE)
    rows = []
    for i in (0, HIGH_PAIR, ROTARY_DIM // 4, LOW_PAIR):
        per_p = float(T.phase_bound(np.array([1]), np.array([w[i]]), "float32")[0, 0])
        p_vac = T.MAX_PHASE_DISPLACEMENT / per_p
        p_bug = T.amplitude_bound("float32") / (UNIT_ROUNDOFF["bfloat16"] * w[i])
        rows.append([str(i), f"{w[i]:.4g}", md.g(per_p), f"{p_vac:.3g} (2^{math.log2(p_vac):.1f})",
                     f"{p_bug:.3g}" if p_bug >= 1 else "< 1"])
    out = ["## Where the fp32 allowance becomes vacuous", "",
           f"The phase allowance grows linearly in p; once it reaches {T.MAX_PHASE_DISPLACEMENT:g} any rotation of "
           "the pair passes, so the clause no longer constrains that pair at that position (the others still do). "
           "The bf16 bug exceeds the fp32 amplitude term alone from the position in the last column on.", ""]
    out += md.table(["pair i", "w_i", "phase allowance per position (rad)", "vacuous from p ≈",
                     "bf16 bug > A_fp32 from p ≈"], rows) + [""]
    return out + [f"The reference is exact for |p| < 2^31 (`{R.__name__}.MAX_ABS_POSITION` = "
                  f"{md.pow2(R.MAX_ABS_POSITION)}).", ""]


def _tolerance_plot_section() -> list[str]:
    data = _tolerance_plot_data()
    return ["## Plot", "", "![allowed per-pair error vs position](plots/tolerance_per_pair.png)", "",
            f"*Allowed error per pair relative to ||x_i|| against position (log-log), rotary_dim = {ROTARY_DIM}, "
            f"base = {BASE:g}, for pair {HIGH_PAIR} (fast) and pair {LOW_PAIR} (slow), per output dtype. Dashed: the "
            "bf16-inverse-frequency bug. Dots: the angle error of a correct fp32 kernel (fl(p) · fl(w_i) in fp32, "
            "computed in numpy). Dotted verticals: positions 2^11, 2^16, 2^20, 2^24.*", ""] \
        + md.fingerprint_comment(data["fingerprint"])


# --------------------------------------------------------------------------------------------
# the landing page's failure

def _buggy_bf16_kernel():
    """A kernel whose only bug is storing its inverse frequencies in bfloat16."""
    import torch

    from pe_spec import rope

    @rope.implementation(layout="half", dtypes=("float32",), name="my_kernel.py:my_rope")
    def my_rope(cfg: rope.Config):
        exponents = torch.arange(0, cfg.rotary_dim, 2, dtype=torch.int64).to(torch.float64) / cfg.rotary_dim
        inv_freq = (1.0 / cfg.base ** exponents).to(torch.bfloat16)      # BUG: bf16 inverse frequencies
        r = cfg.rotary_dim

        def apply(x, positions):
            angles = positions.to(torch.float64)[:, None] * inv_freq.to(torch.float64)
            cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
            rot = x[..., :r].to(torch.float64)
            x1, x2 = rot[..., : r // 2], rot[..., r // 2:]
            out = rot * cos + torch.cat((-x2, x1), -1) * sin
            return torch.cat((out.to(x.dtype), x[..., r:]), -1)

        return apply

    return my_rope


def failure_example() -> FailureExample:
    """rope.reference on one fixed example of the bf16 inverse-frequency kernel."""
    from pe_properties import outcomes
    from pe_properties.engine import Example, run_check

    impl = _buggy_bf16_kernel()
    ex = Example(config={"head_dim": 64, "rotary_dim": 64, "base": 10000.0, "max_position": 4096, "scaling": "none"},
                 dtype="float32", lead=(2,), positions=(0, 1, 2047, 4095), seed=0)
    saved_target, had_direct = outcomes.TARGET, "<direct>" in outcomes.MEASURES
    outcomes.TARGET = impl.name      # what the reproduce line names
    try:
        run_check("rope.reference", impl, ex)
    except outcomes.ClauseViolation as e:
        message = str(e)
    else:
        raise RuntimeError("the bf16 inverse-frequency kernel passed rope.reference: the docs' failure example is broken")
    finally:
        outcomes.TARGET = saved_target
        if not had_direct:
            outcomes.MEASURES.pop("<direct>", None)
    return FailureExample(bug="stores its inverse frequencies in bf16", clause_id="rope.reference",
                          source=textwrap.dedent(inspect.getsource(impl.factory)), message=message,
                          where="row, sequence index, position and pair with its frequency w_i")


# --------------------------------------------------------------------------------------------
# the property matrix

NOTATION = Notation(
    row="R({p})u", score="<R({p}) q, R({q}) k>",
    explanation=("RoPE encodes no vector of its own: it acts on queries and keys, so its row is R(p) applied to "
                 "fixed random vectors (its uniqueness and boundedness are those of R(p) u) and its score is "
                 "<R(p) q, R(q') k> for a fixed random query q and key k."))


def _fixed_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((count, dim))
    v.setflags(write=False)
    return v


def _qk_scale(qk: np.ndarray):
    """|q| |k|: RoPE rotates q and k, so this bounds every score <R(p) q, R(p') k>."""
    bound = float(np.linalg.norm(qk[0]) * np.linalg.norm(qk[1]))
    return lambda p, q, n: np.full(len(p), bound)


def _rotation_encoding(name: str, definition: str, rotate, dim: int, seed: int, **kw: Any) -> Encoding:
    """An Encoding whose row is ``rotate`` applied to 2 fixed vectors and whose score is
    <rotate(q, p), rotate(k, q)> for a fixed query and key. ``rotate(x [m, dim], p) -> [n, m, dim]``."""
    u = _fixed_vectors(2, dim, seed + 1)                        # the vectors R(p) acts on
    qk = _fixed_vectors(2, dim, seed + 2)                       # a query and a key

    def enc(p, n):
        return rotate(u, p).reshape(len(p), -1)

    def score(p, q, n):
        return np.einsum("nd,nd->n", rotate(qk[:1], p)[:, 0], rotate(qk[1:], q)[:, 0])

    return Encoding("rope", name, definition, enc, score, score_scale=_qk_scale(qk), notation=NOTATION, **kw)


def _rotate(x: np.ndarray, p, dim: int) -> np.ndarray:
    """x [m, dim] rotated at each position of p: [n, m, dim]."""
    x = np.broadcast_to(x[:, None, :], (x.shape[0], len(p), dim))
    out = R.apply(x, np.asarray(p), rotary_dim=dim, base=MATRIX_BASE, layout="interleaved")
    return np.moveaxis(out, 0, 1)


def matrix_encoding(dim: int, seed: int) -> Encoding:
    ones = np.tile([1.0, 0.0], dim // 2)

    def heatmap(p):
        return R.apply(np.broadcast_to(ones, (len(p), dim)), p, rotary_dim=dim, base=MATRIX_BASE, layout="interleaved")

    return _rotation_encoding(
        "RoPE", f"R(p) x: pair i of x rotated by p w_i, w_i = {MATRIX_BASE:g}^(-2i/d) (interleaved); the row is R(p) "
        "applied to 2 fixed random vectors", lambda x, p: _rotate(x, p, dim), dim, seed,
        clauses={"bounded": "rope.norm", "linear_relative_map": "rope.composition",
                 "relative_scores": "rope.relative-shift", "deterministic": "impl.determinism"},
        heatmap=heatmap,
        heatmap_note="RoPE is shown as R(p) applied to u = (1, 0, 1, 0, ...), i.e. (cos p w_i, sin p w_i) per pair.")


def matrix_encoding_2d(dim: int, seed: int) -> Encoding:
    """Axial RoPE: the first dim/2 channels (pairs 0..dim/4-1) rotated by x w_i, the other dim/2
    by y w_i, w_i the frequencies of a dim/2-channel RoPE."""
    half = dim // 2

    def rotate(x, xy):
        xy = np.asarray(xy)
        a, b = _rotate(x[:, :half], xy[:, 0], half), _rotate(x[:, half:], xy[:, 1], half)
        return np.concatenate([a, b], axis=-1)

    return _rotation_encoding("RoPE (axial 2-D)", "pairs of the first half rotated by x w_i, of the second half by "
                              "y w_i", rotate, dim, seed, axes=2)


def offset_curves(offsets: np.ndarray, dim: int, base: float) -> list[OffsetCurve]:
    """The mean over random q of <rope(q, p), rope(q, p + k)> / mean |q|^2, at two base positions p."""
    q = np.random.default_rng(OFFSET_SEED).standard_normal((OFFSET_SAMPLES, dim))
    styles = {OFFSET_BASE_POSITIONS[0]: ("--", "tab:orange"), OFFSET_BASE_POSITIONS[1]: (":", "tab:red")}
    curves = []
    for p0, (style, color) in styles.items():
        a = R.apply(q, np.full(OFFSET_SAMPLES, p0), rotary_dim=dim, base=base, layout="interleaved")
        means = np.empty(offsets.size)
        for s in range(0, offsets.size, 64):          # in blocks: [samples, 64, dim] at a time
            kk = offsets[s:s + 64]
            b = R.apply(np.broadcast_to(q[:, None, :], (OFFSET_SAMPLES, kk.size, dim)), p0 + kk,
                        rotary_dim=dim, base=base, layout="interleaved")
            means[s:s + 64] = np.einsum("nd,nkd->k", a, b) / OFFSET_SAMPLES
        curves.append(OffsetCurve(str(p0), f"RoPE mean over q of <rope(q, p), rope(q, p+k)>, p = {p0}",
                                  means / float(np.mean(np.sum(q * q, axis=1))), style, color))
    return curves


def offset_caption(dim: int, base: float) -> str:
    p0, p1 = OFFSET_BASE_POSITIONS
    return (f"Dashed and dotted: <rope(q, p), rope(q, p + k)> averaged over {OFFSET_SAMPLES} standard normal q "
            f"(seed {OFFSET_SEED}), divided by the mean |q|^2, at p = {p0} and p = {p1}: the same curve at both "
            "(clause rope.relative-shift). In expectation it equals the sinusoid's, since "
            "E[q^T R(k w) q] = sum_i E|q_i|^2 cos(k w_i) and RoPE and Vaswani share "
            f"w_i = {base:g}^(-2i/d); the gap is sampling noise.")


# --------------------------------------------------------------------------------------------
# plots

def plots(out_dir: Path, plt: Any) -> list[Path]:
    return [_tolerance_plot(out_dir / PLOTS[0], plt), _decay_plot(out_dir / PLOTS[1], plt)]


def _tolerance_plot(path: Path, plt: Any) -> Path:
    from pe_spec.publish.docs.plots import save
    from pe_spec.spec.tolerance import MAX_PHASE_DISPLACEMENT

    data = _tolerance_plot_data()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    colors = {"float32": "tab:blue", "bfloat16": "tab:orange", "float16": "tab:green"}
    for ax, i in zip(axes, data["pairs"]):
        p = data["p"]
        for dt in WORKED_DTYPES:
            ax.loglog(p, data[(i, dt)], color=colors[dt], lw=1.8, label=f"allowed, {dt} output")
        ax.loglog(p, data[(i, "bug")], "k--", lw=1.5, label="bf16 inverse-frequency bug")
        fp32 = data[(i, "fp32")]
        keep = fp32 > 0
        ax.loglog(p[keep], fp32[keep], ".", color="tab:purple", ms=2.5, label="correct fp32 angle error (observed)")
        for x in WORKED_POSITIONS:
            ax.axvline(x, color="0.6", ls=":", lw=0.8)
        ax.axhline(MAX_PHASE_DISPLACEMENT, color="0.3", lw=0.8)
        ax.text(1.5, MAX_PHASE_DISPLACEMENT * 1.15, "2 = any rotation", fontsize=8, color="0.3")
        ax.set_title(f"pair i = {i}, w_i = {data['w'][i]:.3g} (rotary_dim {ROTARY_DIM}, base {BASE:g})")
        ax.set_xscale("log", base=2)
        ax.set_xticks([2.0**k for k in range(0, 32, 4)], [f"$2^{{{k}}}$" for k in range(0, 32, 4)])
        ax.set_xlabel("position p")
        ax.set_ylim(1e-10, 8)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("error per pair / ||x_pair||")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle("pe-spec tolerance model: allowed error per rotated pair vs position")
    fig.tight_layout()
    return save(fig, path, dpi=110)


def _decay_plot(path: Path, plt: Any) -> Path:
    from pe_spec.publish.docs.plots import save

    decay = _decay_data()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    axes[0].plot(decay["r_lin"], decay["lin"], lw=1.2)
    axes[0].set_xlabel("relative distance r")
    axes[1].semilogx(decay["r_log"], decay["log"], lw=1.0)
    axes[1].set_xlabel("relative distance r (log scale)")
    axes[0].set_ylabel(f"bound(r) / bound(0), bound(0) = {decay['at_zero']:g}")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"RoFormer long-term decay bound, rotary_dim {DECAY_ROTARY_DIM}, base {DECAY_BASE:g} "
                 "(normalised to 1 at r = 0)")
    fig.tight_layout()
    return save(fig, path, dpi=110)
