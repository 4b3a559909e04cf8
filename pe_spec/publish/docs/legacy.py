"""Generate docs/ from the clause registry and the code (never from hand-typed restatements).

    python -m pe_spec.docs            write docs/*.md and docs/plots/*.png
    python -m pe_spec.docs --check    exit 1, listing the stale files, if docs/ differs from what
                                      the registry and the code generate now

Every number, formula constant, clause text, sympy verdict and test citation on the pages is
computed here at generation time: clause text from ``pe_spec.clauses``, verdicts by running
``pe_spec.symbolic.prove_zero`` on each cited derivation, tests from ``pe_properties.harness.CHECKS``,
the tolerance model from ``pe_spec.tolerance`` (its docstring, constants and functions), the
layouts from ``pe_spec.conventions``, the example kernel via ``inspect.getsource``, and the failure
shown on the landing page by running a real check on a deliberately buggy kernel.

The Markdown is byte-stable (tests/test_docs.py regenerates it and compares). The PNGs are
written with no timestamp or software metadata, but their bytes depend on the matplotlib and
FreeType versions, so ``--check`` only requires that they exist; each page embeds a fingerprint
of the data a plot draws, so a change of that data shows up as Markdown drift.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import inspect
import math
import re
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO_ROOT / "docs"
PLOTS = ("plots/tolerance_per_pair.png", "plots/long_term_decay.png", "plots/encoding_heatmaps.png",
         "plots/dot_product_vs_offset.png", "plots/uniqueness_horizon.png")

# Modules whose property tests cite clauses (importing them fills pe_properties.harness.CHECKS).
def _property_modules() -> tuple[str, ...]:
    import pe_properties

    return tuple(f"pe_properties.{m}" for m in pe_properties.PROPERTY_MODULES)

# One page per family; families not listed get "<family>.md".
FAMILY_PAGES: dict[str, str] = {"rope": "rope.md", "sinusoidal": "sinusoidal.md", "impl": "impl.md", "device": "impl.md"}

# The worked example of the tolerance page: a Llama-style configuration.
ROTARY_DIM, BASE = 128, 10000.0
HIGH_PAIR = 1                       # w_0 = 1 is exact in bf16, so pair 1 is the fastest the bug shows in
LOW_PAIR = ROTARY_DIM // 2 - 1      # the slowest pair
WORKED_POSITIONS = (2**11, 2**16, 2**20, 2**24)
WORKED_DTYPES = ("float32", "bfloat16", "float16")
NAIVE_ATOL = 1e-5                   # the tolerance a hand-written test typically picks
DECAY_ROTARY_DIM, DECAY_BASE = 128, 10000.0


def _adapter_names() -> list[str]:
    from pe_spec.adapters import ADAPTERS

    return list(ADAPTERS)


def page_for(family: str) -> str:
    return FAMILY_PAGES.get(family, f"{family}.md")


# --------------------------------------------------------------------------------------------
# small formatting helpers

def _esc(text: str) -> str:
    """Prose from the registry, made safe for Markdown (no emphasis, no raw HTML)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("*", r"\*").replace("|", r"\|")
    return re.sub(r"arXiv:(\d{4}\.\d{4,5})", r"[arXiv:\1](https://arxiv.org/abs/\1)", text)


def _g(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}g}"


def _pow2(v: float) -> str:
    """2**k for an exact power of two, else the number."""
    if v > 0:
        m, e = math.frexp(v)
        if m == 0.5:
            return f"2^{e - 1}"
    return _g(v)


def _ratio(r: float) -> str:
    """observed/allowed: bold when > 1 (caught); never rounds a passing ratio up to "1"."""
    if r > 1:
        return f"**{_g(r)}**"
    for digits in range(3, 17):
        s = _g(r, digits)
        if float(s) < 1 or r == 1:
            return s
    return s


def _code(lang: str, text: str) -> list[str]:
    return [f"```{lang}", text.rstrip("\n"), "```"]


def _source_path(module_name: str) -> str:
    """Repository path of a module, from its dotted name (independent of where it is installed)."""
    parts = module_name.split(".")
    if parts[0] == "pe_properties":
        parts[0] = "properties"
    mod = importlib.import_module(module_name)
    leaf = "__init__.py" if Path(getattr(mod, "__file__", "") or "").name == "__init__.py" else None
    return "/".join(parts) + ("/" + leaf if leaf else ".py")


def _link(repo_path: str) -> str:
    return f"[`{repo_path}`](../{repo_path})"


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n", 1)[0].split())


def _paragraph(doc: str | None, k: int) -> str:
    """The k-th paragraph of a docstring, on one line ("" if there is none)."""
    parts = inspect.cleandoc(doc or "").split("\n\n")
    return " ".join(parts[k].split()) if k < len(parts) else ""


def _fingerprint(*arrays: Iterable[float]) -> str:
    """sha256 of the plotted data at 6 significant digits (robust to last-bit differences)."""
    h = hashlib.sha256()
    for arr in arrays:
        for v in np.ravel(np.asarray(arr, dtype=np.float64)):
            h.update(f"{v:.5e};".encode())
        h.update(b"|")
    return h.hexdigest()[:16]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


# --------------------------------------------------------------------------------------------
# registry, derivations and property tests

def _load_checks() -> dict[str, list[dict[str, Any]]]:
    """clause id -> the property tests citing it: check id, module, test name, dtypes."""
    from pe_properties import load_checks

    CHECKS = load_checks()
    tests: dict[str, Any] = {}
    for name in _property_modules():
        mod = sys.modules[name]
        for attr, obj in vars(mod).items():
            cid = getattr(obj, "check_id", None)
            if isinstance(cid, str) and callable(obj):
                tests[cid] = (name, attr, obj)
    by_clause: dict[str, list[dict[str, Any]]] = {}
    for check_id in sorted(CHECKS):
        check = CHECKS[check_id]
        module, attr, test = tests.get(check_id, (check.fn.__module__, check.fn.__name__, None))
        dtypes: tuple[str, ...] = ()
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize" and mark.args and mark.args[0] == "dtype":
                dtypes = tuple(mark.args[1])
        by_clause.setdefault(check.clause_id, []).append(
            {"check_id": check_id, "module": module, "test": attr, "dtypes": dtypes,
             "doc": _first_paragraph(check.fn.__doc__)})
    return by_clause


def _resolve(dotted: str) -> Callable[[], Any]:
    module_name, _, attr = dotted.rpartition(".")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise RuntimeError(f"derivation {dotted!r} cannot be resolved: {e}") from None
    return fn


def _verdict(dotted: str, cache: dict[str, Any]) -> Any:
    # One run per derivation per generation (a clause page and the derivations table share it).
    if dotted not in cache:
        from pe_spec.spec.symbolic import prove_zero

        cache[dotted] = prove_zero(_resolve(dotted)())
    return cache[dotted]


def _verdict_md(v: Any) -> str:
    word = v.outcome.value.upper()
    text = str(v)[len(word) + 2:]
    mark = "" if word == "PROVEN" else " (not a proof)"
    return f"**{word}**{mark}, {_esc(text)}"


# --------------------------------------------------------------------------------------------
# clause pages

def _clause_section(c: Any, checks: dict[str, list[dict]], verdicts: dict[str, Any]) -> list[str]:
    out = [f'<a id="{c.id}"></a>', "", f"### `{c.id}`: {_esc(c.title)}", ""]
    status = f"**{c.level}**, since {c.since}" + (" (**retired**: kept so the ID is never reused)" if c.retired else "")
    out += [status, "", f"> {_esc(c.statement)}", ""]
    out += _code("text", c.math) + [""]
    out += [f"**Why it holds.** {_esc(c.rationale)}", ""]
    out += [f"**Guards against.** {_esc(c.guards_against)}", ""]
    if c.derivation:
        v = _verdict(c.derivation, verdicts)
        module_name = c.derivation.rpartition(".")[0]
        doc = _first_paragraph(_resolve(c.derivation).__doc__)
        out += [f"**Derivation.** `{c.derivation}` ({_link(_source_path(module_name))}): {_esc(doc)}",
                "", f"sympy verdict, computed when this page was generated: {_verdict_md(v)}", ""]
    else:
        out += ["**Derivation.** none cited: the property follows from the definition "
                "(see *Why it holds*).", ""]
    if c.references:
        out += ["**References.**", ""] + [f"- {_reference_link(r)}" for r in c.references] + [""]
    tests = checks.get(c.id, [])
    if tests:
        out += ["**Checked by.**", ""]
        for t in tests:
            path = _source_path(t["module"])
            dt = f", dtypes {', '.join(t['dtypes'])}" if t["dtypes"] else ""
            variant = f" (check `{t['check_id']}`)" if t["check_id"] != c.id else ""
            doc = f": {_esc(t['doc'])}" if t["doc"] else ""
            out.append(f"- `{t['test']}` in {_link(path)}{variant}{dt}{doc}")
        out.append("")
    elif not c.retired:
        out += ["**Checked by.** no property test cites this clause (tests/test_docs.py fails on this).", ""]
    return out


def _family_clauses(families: Iterable[str]) -> list[Any]:
    from pe_spec import clauses

    fams = set(families)
    return [c for c in clauses.all_clauses() if c.family in fams]


def _derivations_table(module_name: str, clause_list: list[Any], verdicts: dict[str, Any]) -> list[str]:
    mod = importlib.import_module(module_name)
    cited: dict[str, list[str]] = {}
    for c in clause_list:
        if c.derivation:
            cited.setdefault(c.derivation, []).append(c.id)
    rows = []
    for name in mod.DERIVATIONS:
        dotted = f"{module_name}.{name}"
        v = _verdict(dotted, verdicts)
        by = ", ".join(f"[`{cid}`](#{cid})" for cid in cited.get(dotted, [])) or "no clause (background)"
        rows.append([f"`{name}`", _esc(_first_paragraph(getattr(mod, name).__doc__)), _verdict_md(v), by])
    return _table(["derivation", "identity (zero when the property holds)", "verdict", "cited by"], rows)


def render_rope_page(checks: dict, verdicts: dict) -> str:
    from pe_spec import SPEC_VERSION, conventions
    from pe_spec.families.rope import reference
    from pe_spec.families.rope import symbolic as rsym

    d = 8
    out = [f"# RoPE: rotary position embeddings (spec {SPEC_VERSION})", "",
           "<!-- generated by `python -m pe_spec.docs` from the clause registry and the code; do not edit -->", "",
           "Clauses for kernels plugged in with `@rope.implementation`. Each section below is one "
           "clause; its anchor is the clause ID. [Index of all clauses](clauses.md) · "
           "[tolerance model](tolerance.md) · [landing page](index.md).", "",
           "## Conventions", "",
           f"From {_link(_source_path('pe_spec.conventions'))}:", ""]
    out += _code("text", inspect.cleandoc(conventions.__doc__)) + [""]
    rows = []
    for layout in conventions.ROTARY_LAYOUTS:
        first, second = conventions.pair_channels(layout, d)
        rows.append([f"`{layout}`"] + [f"({a}, {b})" for a, b in zip(first.tolist(), second.tolist())])
    out += [f"Pair channels for rotary_dim = {d} (`pair_channels(layout, {d})`):", ""]
    out += _table(["layout"] + [f"pair {i}" for i in range(d // 2)], rows) + [""]
    P = conventions.interleaved_to_half(d)
    out += [f"The permutation between them, `interleaved_to_half({d})`:", "",
            f"`P = {P.tolist()}`, and back: `permutation('half', 'interleaved', {d}) = "
            f"{conventions.permutation('half', 'interleaved', d).tolist()}`.", "",
            _esc(_first_paragraph(inspect.getdoc(conventions.interleaved_to_half).split("\n\n", 1)[1])), "",
            "Channels from rotary_dim to head_dim - 1 are not rotated (partial rotary).", "",
            "## Frequencies", ""]
    w = reference.inverse_frequencies(d, 10000.0)
    out += [f"`{reference.__name__}.inverse_frequencies`: {_esc(_first_paragraph(reference.inverse_frequencies.__doc__))} "
            f"Pair i at position p is rotated by the angle p · w_i "
            f"(`{reference.__name__}.angles`: {_esc(_first_paragraph(reference.angles.__doc__))}).", "",
            f"In sympy, `pe_spec.rope.symbolic.frequency_schedule`: "
            f"{_esc(_first_paragraph(rsym.frequency_schedule.__doc__))} "
            f"{_esc(_paragraph(rsym.frequency_schedule.__doc__, 1))} "
            f"Verdict: {_verdict_md(_verdict('pe_spec.rope.symbolic.frequency_schedule', verdicts))}.", "",
            f"For rotary_dim = {d}, base = 10000: "
            + ", ".join(f"w_{i} = {v:.9g}" for i, v in enumerate(w.tolist())) + ".", "",
            f"The reference ({_link(_source_path('pe_spec.rope.reference'))}): "
            f"{_esc(_first_paragraph(reference.__doc__))}", ""]

    rope_clauses = _family_clauses(["rope"])
    out += ["## Clauses", ""]
    for c in rope_clauses:
        out += _clause_section(c, checks, verdicts)

    from pe_spec.spec.symbolic import Outcome

    out += ["## Derivations", "",
            "Every entry of `pe_spec.rope.symbolic.DERIVATIONS`, decided when this page was generated by "
            f"`pe_spec.symbolic.prove_zero` ({_link(_source_path('pe_spec.symbolic'))}), which has three outcomes: "
            + " / ".join(o.value.upper() for o in Outcome)
            + ". PROVEN means an algebraic rewrite reached exactly 0; an undecided identity is never reported as proven.", ""]
    out += _derivations_table("pe_spec.rope.symbolic", rope_clauses, verdicts) + [""]

    decay = _decay_data()
    out += ["## Long-term decay (background, not a clause)", "",
            f"`long_term_decay_bound`: {_esc(_first_paragraph(rsym.long_term_decay_bound.__doc__))} "
            f"The identity behind it, `long_term_decay_identity`, is "
            f"{_verdict_md(_verdict('pe_spec.rope.symbolic.long_term_decay_identity', verdicts))}.", "",
            f"![RoFormer long-term decay bound](plots/long_term_decay.png)", "",
            f"*The bound for rotary_dim = {DECAY_ROTARY_DIM}, base = {DECAY_BASE:g}, **normalised by its value at "
            f"relative distance 0**, which is (d/2 + 1)/2 = {decay['at_zero']:g} (the bound is not 1 there). "
            f"Left: distances 0 to {int(decay['r_lin'][-1])} (RoFormer Figure 2); right: log scale to "
            f"{_pow2(float(decay['r_log'][-1]))}.*", "",
            f"<!-- plot data fingerprint (drift check): {decay['fingerprint']} -->", ""]
    return "\n".join(out)


def render_impl_page(checks: dict, verdicts: dict) -> str:
    from pe_spec import SPEC_VERSION

    out = [f"# Implementation and device clauses (spec {SPEC_VERSION})", "",
           "<!-- generated by `python -m pe_spec.docs` from the clause registry and the code; do not edit -->", "",
           f"{_esc(_first_paragraph(sys.modules['pe_spec.impl_clauses'].__doc__))} "
           f"From {_link(_source_path('pe_properties.test_impl'))}: "
           f"{_esc(_paragraph(sys.modules['pe_properties.test_impl'].__doc__, 1))} "
           "[Index of all clauses](clauses.md) · [tolerance model](tolerance.md) · "
           "[landing page](index.md).", ""]
    for fam in ("impl", "device"):
        out += [f"## `{fam}.*`", ""]
        for c in _family_clauses([fam]):
            out += _clause_section(c, checks, verdicts)
    return "\n".join(out)


def render_generic_page(family: str, checks: dict, verdicts: dict) -> str:
    from pe_spec import SPEC_VERSION

    out = [f"# `{family}.*` clauses (spec {SPEC_VERSION})", "",
           "<!-- generated by `python -m pe_spec.docs` from the clause registry and the code; do not edit -->", "",
           "[Index of all clauses](clauses.md) · [landing page](index.md).", ""]
    reference = _optional_module(f"pe_spec.{family}.reference")
    symbolic = _optional_module(f"pe_spec.{family}.symbolic")
    if reference is not None:
        out += ["## Conventions and reference", "", f"From {_link(_source_path(reference.__name__))}:", ""]
        out += _code("text", inspect.cleandoc(reference.__doc__)) + [""]
    if symbolic is not None:
        out += ["## What is proven, what is checked", "", f"From {_link(_source_path(symbolic.__name__))}:", ""]
        out += _code("text", inspect.cleandoc(symbolic.__doc__)) + [""]
    out += ["## Clauses", ""]
    family_clauses = _family_clauses([family])
    for c in family_clauses:
        out += _clause_section(c, checks, verdicts)
    if symbolic is not None and hasattr(symbolic, "DERIVATIONS"):
        out += ["## Derivations", "", f"Every entry of `{symbolic.__name__}.DERIVATIONS`, decided by sympy when "
                "this page was generated:", ""]
        out += _derivations_table(symbolic.__name__, family_clauses, verdicts) + [""]
    return "\n".join(out)


def _optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


def render_index_of_clauses(checks: dict) -> str:
    from pe_spec import SPEC_VERSION, clauses

    all_c = clauses.all_clauses()
    out = [f"# Clause index (spec {SPEC_VERSION})", "",
           "<!-- generated by `python -m pe_spec.docs` from the clause registry; do not edit -->", "",
           f"{len(all_c)} clauses. IDs are semantic and stable, never reused; a retired clause keeps its ID. "
           "`pe-spec explain ID` prints one clause in the terminal.", ""]
    rows = []
    for c in all_c:
        title = _esc(c.title) + (" (retired)" if c.retired else "")
        tests = ", ".join(f"`{t['test']}`" for t in checks.get(c.id, [])) or "none"
        rows.append([f"[`{c.id}`]({page_for(c.family)}#{c.id})", c.level, c.since, title, tests])
    out += _table(["id", "level", "since", "title", "property test"], rows)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# the tolerance page

def _round_to_bf16(x: np.ndarray) -> np.ndarray:
    """float64 -> float32 -> bfloat16 (round to nearest even), back to float64."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32).astype(np.float64)


# The catalogues behind the clauses ship in docs/references/ (copied from the team's shared notes).
REFERENCE_FILES = ("known-bugs.md", "formulas.md")


def _reference_link(ref: str) -> str:
    """'known-bugs.md P14' -> a link into docs/references/; other references as text."""
    for name in REFERENCE_FILES:
        if ref.startswith(name):
            return f"[{_esc(name)}](references/{name}){_esc(ref[len(name):])}"
    return _esc(ref)


def _relative_allowance(p: np.ndarray, w: np.ndarray, dtype: str) -> np.ndarray:
    """Allowed ||y_i - ref_i|| / ||x_i|| (floor excluded: it is absolute), shape p.shape + w.shape."""
    from pe_spec import tolerance

    a = tolerance.pair_allowance(np.asarray(p), np.atleast_1d(w), dtype)
    return a.allowed(np.ones(1))


def _bug_error(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The bf16-inverse-frequency bug: relative angle error ~u_bf16, displacement min(dphi, 2)."""
    from pe_spec.spec.dtypes import UNIT_ROUNDOFF
    from pe_spec.spec.tolerance import MAX_PHASE_DISPLACEMENT

    dphi = UNIT_ROUNDOFF["bfloat16"] * np.abs(np.asarray(p, np.float64))[..., None] * np.atleast_1d(w)
    return np.minimum(dphi, MAX_PHASE_DISPLACEMENT)


def _fp32_angle_error(p: np.ndarray, rotary_dim: int, base: float) -> np.ndarray:
    """Displacement / ||x_pair|| of a CORRECT fp32 angle: fl32(fl32(p) * fl32(w_i)), w_i correctly rounded."""
    from pe_spec.families.rope import reference

    w32 = reference.inverse_frequencies(rotary_dim, base).astype(np.float32)
    p = np.asarray(p, dtype=np.int64)
    theta32 = (p.astype(np.float32)[..., None] * w32).astype(np.float64)
    dphi = reference.angle_error(theta32, p, rotary_dim, base)
    return 2 * np.abs(np.sin(dphi / 2))


def _tolerance_plot_data() -> dict[str, Any]:
    from pe_spec.families.rope import reference

    w = reference.inverse_frequencies(ROTARY_DIM, BASE)
    p = np.unique(np.round(np.logspace(0, 31, 250, base=2)).astype(np.int64))
    data: dict[str, Any] = {"p": p, "w": w, "pairs": (HIGH_PAIR, LOW_PAIR)}
    for i in (HIGH_PAIR, LOW_PAIR):
        for dt in WORKED_DTYPES:
            data[(i, dt)] = _relative_allowance(p, w[i], dt)[..., 0]
        data[(i, "bug")] = _bug_error(p, w[i])[..., 0]
        data[(i, "fp32")] = _fp32_angle_error(p, ROTARY_DIM, BASE)[..., i]
    data["fingerprint"] = _fingerprint(p, *(data[k] for k in data if isinstance(k, tuple)))
    return data


def _decay_data() -> dict[str, Any]:
    from pe_spec.families.rope.symbolic import long_term_decay_bound

    r_lin = np.arange(0, 257, dtype=np.float64)
    r_log = np.unique(np.round(np.logspace(0, 20, 400, base=2)))
    at_zero = float(long_term_decay_bound(np.zeros(1), DECAY_ROTARY_DIM, DECAY_BASE)[0])
    lin = long_term_decay_bound(r_lin, DECAY_ROTARY_DIM, DECAY_BASE) / at_zero
    log = long_term_decay_bound(r_log, DECAY_ROTARY_DIM, DECAY_BASE) / at_zero
    return {"r_lin": r_lin, "r_log": r_log, "lin": lin, "log": log, "at_zero": at_zero,
            "fingerprint": _fingerprint(r_lin, lin, r_log, log, [at_zero])}


def _check_tolerance_summary() -> None:
    """The one-line summary on the page must be what pe_spec.tolerance computes; fail loudly if not."""
    from pe_spec import tolerance as T
    from pe_spec.spec.dtypes import FLOAT_DTYPES, SMALLEST_SUBNORMAL, UNIT_ROUNDOFF

    p = np.array([1, 2**11, 2**20, 2**30])
    w = np.array([1.0, 0.3, 1.2e-4])
    for dt in FLOAT_DTYPES:
        u_o, u_c = UNIT_ROUNDOFF[dt], min(UNIT_ROUNDOFF[dt], UNIT_ROUNDOFF["float32"])
        phase = p[:, None] * w * u_c * (T.PHASE_LOG_FACTOR * np.abs(np.log(w)) + T.PHASE_CONST)
        amp = T.AMPLITUDE_OUT * u_o + T.AMPLITUDE_COMPUTE * u_c
        floor = T.FLOOR_SUBNORMALS * SMALLEST_SUBNORMAL[dt]
        a = T.pair_allowance(p, w, dt)
        norms = np.array([0.5, 3.0, 0.0])
        ok = (np.allclose(a.phase, phase, rtol=1e-12, atol=0) and math.isclose(a.amplitude, amp, rel_tol=1e-12)
              and math.isclose(a.floor, floor, rel_tol=1e-12)
              and np.allclose(a.allowed(norms), norms * (np.minimum(phase, T.MAX_PHASE_DISPLACEMENT) + amp) + floor,
                              rtol=1e-12, atol=0))
        if not ok:
            raise RuntimeError("pe_spec.tolerance no longer computes the model summarised on docs/tolerance.md; "
                               "update _tolerance_summary in pe_spec/docs.py")


def _tolerance_constants() -> list[tuple[str, float]]:
    """Module-level numeric constants of pe_spec.tolerance, in definition order."""
    from pe_spec import tolerance

    return [(k, v) for k, v in vars(tolerance).items()
            if k.isupper() and isinstance(v, (int, float)) and not isinstance(v, bool)]


def render_tolerance_page() -> str:
    from pe_spec import SPEC_VERSION
    from pe_spec import tolerance as T
    from pe_spec.spec.dtypes import FLOAT_DTYPES, UNIT_ROUNDOFF
    from pe_spec.families.rope import reference

    _check_tolerance_summary()
    w = reference.inverse_frequencies(ROTARY_DIM, BASE)
    u32, ubf = UNIT_ROUNDOFF["float32"], UNIT_ROUNDOFF["bfloat16"]
    C = dict(_tolerance_constants())
    out = [f"# The tolerance model (spec {SPEC_VERSION})", "",
           "<!-- generated by `python -m pe_spec.docs` from pe_spec/tolerance.py and pe_spec/dtypes.py; do not edit -->", "",
           f"Normative: every clause that compares numbers takes its allowed error from "
           f"{_link(_source_path('pe_spec.tolerance'))}, and every failure reports the observed error, the "
           "allowed error and their ratio. [Landing page](index.md) · [RoPE clauses](rope.md).", "",
           "## The model", "",
           "For rotated pair i (frequency w_i) of an input x at position p, in output dtype `dt`:", ""]
    out += _code("text", "\n".join([
        "allowed_i = ||x_i|| * (min(phase_i, MAX_PHASE_DISPLACEMENT) + A) + F",
        "phase_i   = |p| * w_i * u_c * (PHASE_LOG_FACTOR * |ln w_i| + PHASE_CONST)",
        "          = |p| * w_i * u_c * ({PHASE_LOG_FACTOR} * |ln w_i| + {PHASE_CONST})".format(**C),
        "A         = AMPLITUDE_OUT * u_o + AMPLITUDE_COMPUTE * u_c = {AMPLITUDE_OUT} u_o + {AMPLITUDE_COMPUTE} u_c".format(**C),
        "F         = FLOOR_SUBNORMALS * smallest subnormal of dt = {FLOOR_SUBNORMALS} * s(dt)".format(**C),
        "u_o       = unit roundoff of dt;  u_c = min(u_o, u_fp32)  (angles computed in at least fp32)",
        f"MAX_PHASE_DISPLACEMENT = {T.MAX_PHASE_DISPLACEMENT}: a rotation by any wrong angle moves a vector by at most twice its norm",
    ])) + [""]
    out += ["(This summary is checked against the functions below each time the page is generated.)", "",
            "## Constants", ""]
    out += _table(["constant", "value"], [[f"`{k}`", repr(v)] for k, v in _tolerance_constants()]) + [""]
    out += ["## Unit roundoffs and per-dtype terms", "",
            f"`UNIT_ROUNDOFF` and `SMALLEST_SUBNORMAL` from {_link(_source_path('pe_spec.dtypes'))}; "
            "`compute_roundoff`, `amplitude_bound` and `floor_bound` from `pe_spec.tolerance`:", ""]
    rows = []
    for dt in FLOAT_DTYPES:
        rows.append([f"`{dt}`", _pow2(UNIT_ROUNDOFF[dt]), _g(UNIT_ROUNDOFF[dt]), _pow2(T.compute_roundoff(dt)),
                     _g(T.amplitude_bound(dt)), _g(T.floor_bound(dt))])
    out += _table(["dtype", "u", "u (decimal)", "u_c (compute)", "A = amplitude_bound", "F = floor_bound"], rows) + [""]
    out += ["## Derivation", "", f"The module docstring of `pe_spec.tolerance`, verbatim:", ""]
    out += _code("text", inspect.cleandoc(T.__doc__)) + [""]
    out += ["## The code", ""]
    out += _code("python", "\n\n".join(inspect.getsource(f).rstrip() for f in
                                       (T.phase_bound, T.amplitude_bound, T.floor_bound, T.PairAllowance))) + [""]

    # --- why per pair ---
    p24 = np.array([2**24])
    global_bound = float(_relative_allowance(p24, w[HIGH_PAIR], "float32")[0, 0])
    low_allow = float(_relative_allowance(p24, w[LOW_PAIR], "float32")[0, 0])
    low_bug = float(_bug_error(p24, w[LOW_PAIR])[0, 0])
    out += ["## Why per pair", "",
            "Each pair rotates at its own frequency, so its angle, and the rounding error of that angle, grows "
            "with p · w_i: for rotary_dim = "
            f"{ROTARY_DIM}, base = {BASE:g} the frequencies span w_0 = {w[0]:g} to w_{LOW_PAIR} = {w[LOW_PAIR]:.3g}, "
            f"a factor {w[0] / w[LOW_PAIR]:.3g}. One bound sized for the fastest pair at long context is vacuous for "
            f"the slow ones: at p = 2^24, pair {HIGH_PAIR}'s fp32 allowance is {_g(global_bound)} ||x_i|| "
            "(any rotation passes), while pair "
            f"{LOW_PAIR}'s is {_g(low_allow)} ||x_i||. A bf16 inverse-frequency bug moves pair {LOW_PAIR} by "
            f"{_g(low_bug)} ||x_i|| there: {low_bug / low_allow:.3g} times its own allowance, but inside the global one.", ""]

    # --- naive atol ---
    p20 = np.array([2**20])
    err = _fp32_angle_error(p20, ROTARY_DIM, BASE)[0]
    allow = _relative_allowance(p20, w, "float32")[0]
    i_max = int(np.argmax(err))
    step = 10.0 ** (math.floor(math.log10(err[i_max])) - 1)
    loose = float(_g(math.ceil(err[i_max] / step) * step))   # the smallest 2-digit atol the kernel passes
    hidden = [p for p in WORKED_POSITIONS if _bug_error(np.array([p]), w[LOW_PAIR])[0, 0] < loose]
    out += ["## Why a naive atol fails correct fp32 kernels at 2^20", "",
            f"A correct fp32 kernel rounds w_i to fp32 and forms the angle as one fp32 product fl(p · w_i). At "
            f"p = 2^20 the angle of pair {i_max} is {2**20 * w[i_max]:.6g} rad, whose fp32 spacing is "
            f"{_g(np.spacing(np.float32(2**20 * w[i_max])))}; rounding it alone (computed here in numpy, with w_i "
            f"correctly rounded, the best an fp32 kernel can do) moves that pair by {_g(err[i_max])} ||x_i||. "
            f"With ||x_i|| ~ 1 that is {err[i_max] / NAIVE_ATOL:.3g} times `atol={NAIVE_ATOL:g}`, so a naive "
            "test rejects every correct fp32 kernel at long context; loosening it to "
            f"`atol={loose:g}` to pass them lets the bf16 inverse-frequency bug through in pair {LOW_PAIR} at "
            + (", ".join(_pow2(p) for p in hidden) if hidden else "none of the positions below")
            + " (see the worked table). The model allows "
            f"{_g(allow[i_max])} ||x_i|| for that pair (observed/allowed = {err[i_max] / allow[i_max]:.3g}); over all "
            f"{ROTARY_DIM // 2} pairs the worst ratio is {float(np.max(err / allow)):.3g}.", ""]

    # --- worked table ---
    out += ["## Worked table", "",
            f"Allowed error per pair relative to ||x_i|| (floor F excluded) for rotary_dim = {ROTARY_DIM}, "
            f"base = {BASE:g}, next to the error of a kernel that stores its inverse frequencies in bf16 "
            f"(relative angle error ~u_bf16 = {_pow2(ubf)}, displacement min(u_bf16 · p · w_i, "
            f"{T.MAX_PHASE_DISPLACEMENT:g})). `2 + A` in a cell means the phase term is capped: any rotation passes. "
            "A ratio in bold is > 1: the bug is caught in that dtype at that position.", ""]
    hdr = ["pair i", "w_i", "p", "p · w_i (rad)"] + [f"allowed {dt}" for dt in WORKED_DTYPES] \
        + ["bf16-inv-freq bug"] + [f"bug / allowed {dt}" for dt in WORKED_DTYPES]
    rows = []
    pos = np.array(WORKED_POSITIONS)
    for i in (HIGH_PAIR, LOW_PAIR):
        allowed = {dt: _relative_allowance(pos, w[i], dt)[:, 0] for dt in WORKED_DTYPES}
        phase = T.phase_bound(pos, np.array([w[i]]), "float32")[:, 0]
        bug = _bug_error(pos, w[i])[:, 0]
        for k, p in enumerate(WORKED_POSITIONS):
            cells = []
            for dt in WORKED_DTYPES:
                cap = T.phase_bound(pos[k:k + 1], np.array([w[i]]), dt)[0, 0] >= T.MAX_PHASE_DISPLACEMENT
                cells.append(f"2 + A ({_g(allowed[dt][k])})" if cap else _g(allowed[dt][k]))
            rows.append([str(i), f"{w[i]:.4g}", _pow2(p), _g(p * w[i])] + cells + [_g(bug[k])]
                        + [_ratio(bug[k] / allowed[dt][k]) for dt in WORKED_DTYPES])
    out += _table(hdr, rows) + [""]
    actual = [abs(_round_to_bf16(w[i]) - w[i]) / w[i] for i in (HIGH_PAIR, LOW_PAIR)]
    same_phase = all(T.compute_roundoff(dt) == T.compute_roundoff(WORKED_DTYPES[0]) for dt in WORKED_DTYPES)
    out += [f"Rounding these two frequencies to bf16 actually gives relative errors {_g(actual[0])} (pair {HIGH_PAIR}) "
            f"and {_g(actual[1])} (pair {LOW_PAIR}), within the model's u_bf16 = {_g(ubf)}. "
            + ("The phase term is the same for all three dtypes (u_c is fp32's for each); bf16 and fp16 outputs "
               "only add a larger amplitude term A, so in a slow pair at short context a bf16 output hides the bug "
               "(ratio < 1 above) and the fp32 examples catch it." if same_phase else
               "The compute roundoff u_c differs between these dtypes, so their phase terms differ."), ""]

    # --- vacuity ---
    rows = []
    for i in (0, HIGH_PAIR, ROTARY_DIM // 4, LOW_PAIR):
        per_p = float(T.phase_bound(np.array([1]), np.array([w[i]]), "float32")[0, 0])
        p_vac = T.MAX_PHASE_DISPLACEMENT / per_p
        p_bug = T.amplitude_bound("float32") / (ubf * w[i])
        rows.append([str(i), f"{w[i]:.4g}", _g(per_p), f"{p_vac:.3g} (2^{math.log2(p_vac):.1f})",
                     f"{p_bug:.3g}" if p_bug >= 1 else "< 1"])
    out += ["## Where the fp32 allowance becomes vacuous", "",
            f"The phase allowance grows linearly in p; once it reaches {T.MAX_PHASE_DISPLACEMENT:g} any rotation of "
            "the pair passes, so the clause no longer constrains that pair at that position (the others still do). "
            "The bf16 bug exceeds the fp32 amplitude term alone from the position in the last column on.", ""]
    out += _table(["pair i", "w_i", "phase allowance per position (rad)", "vacuous from p ≈",
                   "bf16 bug > A_fp32 from p ≈"], rows) + [""]
    out += [f"The reference is exact for |p| < 2^31 (`pe_spec.rope.reference.MAX_ABS_POSITION` = "
            f"{_pow2(reference.MAX_ABS_POSITION)}).", ""]

    data = _tolerance_plot_data()
    out += ["## Plot", "", "![allowed per-pair error vs position](plots/tolerance_per_pair.png)", "",
            f"*Allowed error per pair relative to ||x_i|| against position (log-log), rotary_dim = {ROTARY_DIM}, "
            f"base = {BASE:g}, for pair {HIGH_PAIR} (fast) and pair {LOW_PAIR} (slow), per output dtype. Dashed: the "
            "bf16-inverse-frequency bug. Dots: the angle error of a correct fp32 kernel (fl(p) · fl(w_i) in fp32, "
            "computed in numpy). Dotted verticals: positions 2^11, 2^16, 2^20, 2^24.*", "",
            f"<!-- plot data fingerprint (drift check): {data['fingerprint']} -->", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# landing page

def _buggy_bf16_kernel():
    """A kernel whose only bug is storing its inverse frequencies in bfloat16 (shown on index.md)."""
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


def _failure_example() -> tuple[str, str]:
    """(kernel source, the failure message the suite prints for it on a fixed example)."""
    from pe_spec import outcomes
    from pe_properties.harness import Example, run_check

    impl = _buggy_bf16_kernel()
    ex = Example(config={"head_dim": 64, "rotary_dim": 64, "base": 10000.0, "max_position": 4096, "scaling": "none"},
                 dtype="float32", lead=(2,), positions=(0, 1, 2047, 4095), seed=0)
    saved_target, had_direct = outcomes.TARGET, "<direct>" in outcomes.MEASURES
    outcomes.TARGET = "my_kernel.py:my_rope"
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
    src = textwrap.dedent(inspect.getsource(impl.factory))
    return src, message


def _check_options() -> list[list[str]]:
    from pe_spec import cli

    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    check = sub.choices["check"]
    rows = []
    for a in check._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        name = ", ".join(f"`{s}`" for s in a.option_strings) if a.option_strings else f"`{a.dest}`"
        if a.metavar and a.option_strings:
            name += f" `{a.metavar}`"
        if a.choices:
            name += " (" + "/".join(a.choices) + ")"
        rows.append([name, _esc(a.help or "")])
    return rows


def _plugin_options() -> list[list[str]]:
    from pe_spec import pytest_plugin

    class _Group:
        def __init__(self) -> None:
            self.rows: list[list[str]] = []

        def addoption(self, *names: str, **kw: Any) -> None:
            name = ", ".join(f"`{n}`" for n in names) + (f" `{kw['metavar']}`" if kw.get("metavar") else "")
            self.rows.append([name, _esc(kw.get("help", ""))])

    class _Parser:
        def __init__(self) -> None:
            self.group = _Group()

        def getgroup(self, *a: Any, **k: Any) -> _Group:
            return self.group

    parser = _Parser()
    pytest_plugin.pytest_addoption(parser)  # type: ignore[arg-type]
    return parser.group.rows


def render_index(checks: dict) -> str:
    from pe_spec import SPEC_VERSION, __version__, clauses, cli, profiles
    from pe_spec.examples import rope as examples_rope
    from pe_spec.families.rope import contract as rope_contract

    fams: dict[str, int] = {}
    for c in clauses.all_clauses():
        fams[page_for(c.family)] = fams.get(page_for(c.family), 0) + 1
    out = [f"# pe-spec {__version__}, specification {SPEC_VERSION}", "",
           "<!-- generated by `python -m pe_spec.docs`; do not edit -->", "",
           _esc(_first_paragraph(sys.modules["pe_spec"].__doc__)), "",
           "## Pages", "",
           f"- [Clause index](clauses.md): all {sum(fams.values())} clauses with level, version and test.",
           f"- [RoPE](rope.md): conventions, frequencies, {fams.get('rope.md', 0)} clauses, derivations.",
           f"- [Implementation and device clauses](impl.md): {fams.get('impl.md', 0)} clauses every kernel must meet.",
           ]
    out += [f"- [`{page[:-3]}`]({page}): {n} clauses." for page, n in fams.items() if page not in ("rope.md", "impl.md")]
    out += ["- [Tolerance model](tolerance.md): the normative error model, its derivation, a worked table and plots.",
            "- [Property matrix](property-matrix.md): integer, normalized, binary, learned table, sinusoidal and "
            "RoPE against the desirable properties, every cell decided by running a check; uniqueness horizon "
            "per dtype.",
            "- [Conformance table](conformance.md): every bundled and third-party kernel (adapters in "
            "`pe_spec/adapters/`) against every clause, regenerated by `python -m pe_spec.conformance`; "
            "findings per library: " + ", ".join(f"[{name}](findings/{name}.md)" for name in _adapter_names()) + ".",
            "- [Performance](performance.md): how long a check takes and where the time goes, with the commands.",
            "", "Regenerate with `python -m pe_spec.docs`; `python -m pe_spec.docs --check` (and tests/test_docs.py) "
            "fail when these pages no longer match the registry and the code.", ""]

    # contract
    cfg_rows = []
    for f in dataclasses.fields(rope_contract.Config):
        default = "" if f.default is dataclasses.MISSING else repr(f.default)
        cfg_rows.append([f"`{f.name}`", f"`{f.type}`", f"`{default}`" if default else "required"])
    out += ["## The plug-in contract (RoPE)", "",
            f"From {_link(_source_path('pe_spec.rope.contract'))}:", ""]
    out += _code("text", inspect.cleandoc(rope_contract.__doc__)) + [""]
    out += [f"`rope.Config`: {_esc(_first_paragraph(rope_contract.Config.__doc__))}", ""]
    out += _table(["field", "type", "default"], cfg_rows) + [""]
    out += _code("text", inspect.cleandoc(rope_contract.Config.__doc__).split("\n\n", 1)[1]) + [""]
    out += ["Declarations `@rope.implementation(...)` accepts (anything not declared is drawn by the suite "
            "from the full space):", ""]
    out += _table(["declaration", "meaning"],
                  [[f"`{k}`", _esc(v)] for k, v in rope_contract.DECLARATIONS.items()]) + [""]
    out += [f"`pe_spec.Unsupported`: "
            f"{_esc(_first_paragraph(sys.modules['pe_spec.contract'].Unsupported.__doc__))} "
            f"{_esc(_paragraph(sys.modules['pe_spec.contract'].Unsupported.__doc__, 1))}", ""]
    factory = examples_rope.rope_half_cached.factory
    names: list[str] = []
    todo = [factory.__code__]
    while todo:  # the factory's own names and those of the closures it defines
        code = todo.pop(0)
        names += [n for n in code.co_names if n not in names]
        todo += [c for c in code.co_consts if inspect.iscode(c)]
    helpers = [n for n in names if inspect.isfunction(getattr(examples_rope, n, None))
               and getattr(examples_rope, n).__module__ == examples_rope.__name__]
    out += [f"A complete example, `rope_half_cached` from {_link(_source_path('pe_spec.examples.rope'))} "
            f"(helpers {', '.join(f'`{h}`' for h in helpers)} are defined in the same file):", ""]
    out += _code("python", "from pe_spec import rope\n\n" + textwrap.dedent(inspect.getsource(factory))) + [""]

    # running
    out += ["## Running the check", "",
            "```bash", "pe-spec check examples:rope_half_cached          # a bundled kernel",
            "pe-spec check path/to/my_kernel.py:my_rope        # a file, or package.module:name",
            "pytest --pyargs pe_properties --pe-impl path/to/my_kernel.py:my_rope   # the same checks under pytest",
            "PE_IMPL=path/to/my_kernel.py:my_rope pytest --pyargs pe_properties",
            "```", "",
            f"Exit status: {cli.EXIT_OK} conformant, {cli.EXIT_NONCONFORMANT} nonconformant, "
            f"{cli.EXIT_USAGE} usage or loading error. `pe-spec check` options:", ""]
    out += _table(["option", "meaning"], _check_options()) + ["", "pytest plugin options:", ""]
    out += _table(["option", "meaning"], _plugin_options()) + ["", "Hypothesis profiles (`pe_spec.profiles.PROFILES`):", ""]
    out += _table(["profile", "settings"], [[f"`{k}`" + (" (default)" if k == profiles.DEFAULT_PROFILE else ""),
                                             ", ".join(f"{a}={b!r}" for a, b in v.items())]
                                            for k, v in profiles.PROFILES.items()]) + [""]
    out += ["A clause that could not run (a dtype or device absent, a configuration the kernel declares "
            "unsupported) is reported as not verified, with the reason, never as passed.", ""]

    # failure
    src, message = _failure_example()
    out += ["## Reading a failure", "",
            "This kernel stores its inverse frequencies in bf16 (a real bug, see "
            "[`rope.reference`](rope.md#rope.reference)):", ""]
    out += _code("python", src) + ["", "On one fixed example, `rope.reference` reports (produced by running the "
                                    "check when this page was generated):", ""]
    out += _code("text", message) + [""]
    out += ["- Line 1: the clause ID (its section on the family page), its level and its normative sentence.",
            "- Line 2: what the check compared.",
            "- Then the worst element: observed error, the error the [tolerance model](tolerance.md) allows a "
            "correct kernel there, their ratio (> 1 fails), and where: row, sequence index, position and pair "
            "with its frequency w_i. A ratio in the thousands is a precision bug, not noise.",
            "- `counterexample`: the configuration, dtype, device, input shape and positions (hypothesis "
            "shrinks them towards the smallest failing example).",
            "- `reproduce`: replays exactly this example (`pe-spec repro TARGET CHECK_ID EXAMPLE_JSON`).",
            "", "Passing reports show the worst observed/allowed ratio per clause, so you see how close to the "
            "allowance a kernel is.", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# plots

def render_plots(out_dir: Path) -> list[Path]:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("pe_spec.docs: the plots need matplotlib (pip install matplotlib, or pe-spec[plots])")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pe_spec.spec.tolerance import MAX_PHASE_DISPLACEMENT

    plt.rcParams.update({"font.size": 9})
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    written = []

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
    path = out_dir / PLOTS[0]
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    written.append(path)

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
    path = out_dir / PLOTS[1]
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    written.append(path)
    written += _render_matrix_plots(out_dir, plt)
    return written


# --------------------------------------------------------------------------------------------
# the property matrix page (pe_spec.matrix) and its plots

HEATMAP_POSITIONS = 128            # positions 0..127 in the heatmaps (training length 64 marked)
DOT_DIM, DOT_SAMPLES, DOT_SEED = 64, 256, 0
DOT_BASE_POSITIONS = (0, 10**6)    # the RoPE average at two base positions: the same curve


def _cx_anchor(row: str, prop: str) -> str:
    return f"cx-{row.replace('_', '-')}-{prop.replace('_', '-')}"


def _matrix_cell_link(cell: Any) -> str:
    """A failing cell links its counterexample on this page; a passing one its clause or check."""
    from pe_spec import clauses

    if not cell.holds:
        return f"#{_cx_anchor(cell.row, cell.prop)}"
    if cell.link.startswith("#"):
        return cell.link
    fam = next(c.family for c in clauses.all_clauses() if c.id == cell.link)
    return f"{page_for(fam)}#{cell.link}"


def _horizon_cell(h: int, found: bool) -> str:
    return str(h) if found else f"≥ {_pow2(h)}"


def _heatmap_data() -> dict[str, Any]:
    """Each row's encoding at positions 0..127 (one sequence of length 128), DIM channels; the
    learned table is undefined (NaN) past its 64 rows; RoPE is R(p) applied to u = (1, 0, 1, 0, ...)."""
    from pe_spec import matrix as M
    from pe_spec.families.rope import reference as R

    p = np.arange(HEATMAP_POSITIONS, dtype=np.int64)
    data: dict[str, Any] = {"p": p}
    for key in M.ROWS:
        if key == "rope":
            u = np.tile([1.0, 0.0], M.DIM // 2)
            data[key] = R.apply(np.broadcast_to(u, (p.size, M.DIM)), p, rotary_dim=M.DIM, base=M.ROPE_BASE,
                                layout="interleaved")
            continue
        enc = M.make_encoding(key)
        ok, rows = M._defined(enc, p, HEATMAP_POSITIONS)
        full = np.full((p.size, M.DIM), np.nan)
        full[ok] = rows
        data[key] = full
    data["fingerprint"] = _fingerprint(*(np.nan_to_num(data[k], nan=-999.0) for k in M.ROWS))
    return data


def _dot_offset_data() -> dict[str, Any]:
    """<PE(0), PE(k)> of Vaswani sinusoids and the mean over random q of <rope(q, p), rope(q, p + k)>,
    both divided by their value at k = 0, for offsets k on a linear and a log grid."""
    from pe_spec.families.rope import reference as R
    from pe_spec.families.sinusoidal import reference as S

    k_lin = np.arange(0, 257, dtype=np.int64)
    k_log = np.unique(np.round(np.logspace(0, 16, 200, base=2)).astype(np.int64))
    q = np.random.default_rng(DOT_SEED).standard_normal((DOT_SAMPLES, DOT_DIM))
    data: dict[str, Any] = {"k_lin": k_lin, "k_log": k_log}
    for name, ks in (("lin", k_lin), ("log", k_log)):
        pe, pe0 = S.table(ks, DOT_DIM), S.table(np.zeros(1, dtype=np.int64), DOT_DIM)[0]
        data[f"sin_{name}"] = pe @ pe0 / (pe0 @ pe0)
        for p0 in DOT_BASE_POSITIONS:
            a = R.apply(q, np.full(DOT_SAMPLES, p0), rotary_dim=DOT_DIM, base=10000.0, layout="interleaved")
            means = np.empty(ks.size)
            for s in range(0, ks.size, 64):
                kk = ks[s:s + 64]
                b = R.apply(np.broadcast_to(q[:, None, :], (DOT_SAMPLES, kk.size, DOT_DIM)), p0 + kk,
                            rotary_dim=DOT_DIM, base=10000.0, layout="interleaved")
                means[s:s + 64] = np.einsum("nd,nkd->k", a, b) / DOT_SAMPLES
            data[f"rope_{name}_{p0}"] = means / float(np.mean(np.sum(q * q, axis=1)))
    data["fingerprint"] = _fingerprint(*(data[k] for k in sorted(data) if k != "fingerprint"))
    return data


def _horizon_data() -> dict[str, Any]:
    from pe_spec import matrix as M

    table = M.horizon_table()
    flat = [table[d, dt][0] for d in M.HORIZON_DIMS for dt in M.HORIZON_DTYPES]
    return {"table": table, "fingerprint": _fingerprint(flat, [float(table[d, dt][1]) for d in M.HORIZON_DIMS
                                                               for dt in M.HORIZON_DTYPES])}


def render_matrix_page() -> str:
    from pe_spec import SPEC_VERSION
    from pe_spec import matrix as M
    from pe_spec.spec.naive import PROPERTIES

    m = M.compute()
    mod_doc = inspect.cleandoc(M.__doc__)
    out = [f"# The property matrix (spec {SPEC_VERSION})", "",
           "<!-- generated by `python -m pe_spec.docs` from pe_spec/matrix.py; do not edit -->", "",
           "Which desirable property does each position encoding have? Every cell below is the outcome of a "
           f"check run on the encoding's float64 reference when this page was generated "
           f"({_link(_source_path('pe_spec.matrix'))}, `pe_spec.matrix.compute()`; "
           "`python -m pe_spec.matrix` prints it), never a typed-in verdict. A failing cell links its "
           "counterexample; a passing cell links the clause that requires the property of plugged-in "
           "implementations where there is one, else the definition of its check. "
           "[Landing page](index.md) · [sinusoidal clauses](sinusoidal.md) · [RoPE clauses](rope.md).", "",
           "## The matrix", ""]
    header = ["encoding"] + [M.PROPERTY_TITLES[p] for p in m.props]
    rows = []
    for r in m.rows:
        cells = []
        for p in m.props:
            c = m.cells[r, p]
            word = "holds" if c.holds else "**fails**"
            cells.append(f"[{word}]({_matrix_cell_link(c)})")
        rows.append([_esc(m.names[r])] + cells)
    out += _table(header, rows) + [""]
    n_fail = sum(not c.holds for c in m.cells.values())
    out += [f"{len(m.cells)} cells, {len(m.cells) - n_fail} hold, {n_fail} fail.", ""]

    paras = mod_doc.split("\n\n")
    interface = next(x for x in paras if x.startswith("One ``Encoding`` interface"))
    probes = next(x for x in paras if x.startswith("Positions probed"))
    out += ["## The encodings", "", _esc(" ".join(interface.replace("``", "`").split())), ""]
    out += _code("text", probes.replace("``", "")) + [""]
    out += _table(["row", "encoding", "definition"],
                  [[f"`{r}`", _esc(m.names[r]), _esc(m.definitions[r])] for r in m.rows]) + [""]
    consts = ["DIM", "TRAIN_LENGTH", "TRAIN_CONTEXTS", "FAR_LENGTH", "OFFSETS", "SCORE_OFFSETS", "SMOOTH_STEPS",
              "GRID", "GRID_OFFSETS", "BOUND_GROWTH", "LINEAR_RTOL", "SCORE_RTOL", "NORM_RTOL", "ROPE_BASE", "SEED"]
    out += ["Constants of the checks (`pe_spec.matrix`):", ""]
    out += _table(["constant", "value"], [[f"`{c}`", f"`{getattr(M, c)!r}`"] for c in consts]) + [""]
    beyond = M.beyond_positions()
    out += [f"Probes past the training length: {beyond.size} positions from {int(beyond.min())} to "
            f"{int(beyond.max())} (windows around 2^8 .. 2^30 and 2^31 - 1).", ""]

    out += ["## Counterexamples", "",
            "Each failing cell, with the counterexample its check found (anchors `cx-<row>-<property>`).", ""]
    for (r, p), c in m.cells.items():
        if c.holds:
            continue
        out += [f'<a id="{_cx_anchor(r, p)}"></a>', "",
                f"- **{_esc(m.names[r])}, {M.PROPERTY_TITLES[p]}**: {_esc(c.evidence.split(': ', 1)[1])} "
                f"([the check](#{M.check_anchor(p)}))", ""]

    out += ["## What the passing cells checked", ""]
    prow = []
    for (r, p), c in m.cells.items():
        if c.holds:
            link = _matrix_cell_link(c)
            by = f"[`{c.link}`]({link})" if not c.link.startswith("#") else f"[check]({link})"
            prow.append([_esc(m.names[r]), M.PROPERTY_TITLES[p], _esc(c.evidence.split(": ", 1)[1]), by])
    out += _table(["encoding", "property", "evidence", "decided by"], prow) + [""]

    out += ["## The checks", "",
            "One function per property in `pe_spec.matrix`; its docstring is the definition, quoted here.", ""]
    for p in m.props:
        fn = M.CHECKS[p].doc_fn
        out += [f'<a id="{M.check_anchor(p)}"></a>', "", f"### {M.PROPERTY_TITLES[p]} (`{p}`)", "",
                f"*{_esc(PROPERTIES[p])}* (`pe_spec.naive.reference.PROPERTIES`). Checked by `{fn.__name__}`:", ""]
        out += _code("text", inspect.cleandoc(fn.__doc__)) + [""]

    hz = _horizon_data()
    table = hz["table"]
    out += ["## Uniqueness horizon per dtype", "",
            "The largest L such that positions 0..L-1 of Vaswani sinusoids (base 10000) all have distinct "
            "encodings after correct rounding to the dtype (`pe_spec.naive.reference.uniqueness_horizon`, "
            f"searched up to {_pow2(M.HORIZON_MAX_POSITIONS)} positions). `≥ {_pow2(M.HORIZON_MAX_POSITIONS)}` "
            "means no repeat was found below the search bound: a lower bound, not the horizon. In float64 "
            "the reference is unique over the whole exact range (the matrix above).", ""]
    out += _table(["dim"] + [f"`{dt}`" for dt in M.HORIZON_DTYPES],
                  [[str(d)] + [_horizon_cell(*table[d, dt]) for dt in M.HORIZON_DTYPES] for d in M.HORIZON_DIMS])
    out += ["", "![uniqueness horizon per dtype](plots/uniqueness_horizon.png)", "",
            f"*Uniqueness horizon per dim and dtype (log scale). Hatched bars reached the search bound "
            f"{_pow2(M.HORIZON_MAX_POSITIONS)} without a repeat (lower bounds).*", "",
            f"<!-- plot data fingerprint (drift check): {hz['fingerprint']} -->", ""]

    heat = _heatmap_data()
    out += ["## Plots", "", "### Each encoding over positions x channels", "",
            "![encodings over positions and channels](plots/encoding_heatmaps.png)", "",
            f"*Positions 0..{HEATMAP_POSITIONS - 1} as one sequence of length {HEATMAP_POSITIONS} (so the normalized "
            f"encoding is p/{HEATMAP_POSITIONS}), {M.DIM} channels, each panel with its own colour scale. The dashed "
            f"line is the training length {M.TRAIN_LENGTH}: the learned table has no rows past it (blank). RoPE is "
            f"shown as R(p) applied to u = (1, 0, 1, 0, ...), i.e. (cos p w_i, sin p w_i) per pair.*", "",
            f"<!-- plot data fingerprint (drift check): {heat['fingerprint']} -->", ""]
    dot = _dot_offset_data()
    out += ["### Dot product against offset", "",
            "![dot product against offset](plots/dot_product_vs_offset.png)", "",
            "*" + _esc(f"d = {DOT_DIM}, base 10000. Solid: <PE(0), PE(k)> / <PE(0), PE(0)> of Vaswani sinusoids, "
                       f"which is (1/(d/2)) sum_i cos(k w_i) at every base position (clause sinusoidal.offset-dot). "
                       f"Dashed and dotted: <rope(q, p), rope(q, p + k)> averaged over {DOT_SAMPLES} standard normal q "
                       f"(seed {DOT_SEED}), divided by the mean |q|^2, at p = {DOT_BASE_POSITIONS[0]} and "
                       f"p = {DOT_BASE_POSITIONS[1]}: the same curve at both (clause rope.relative-shift). In "
                       "expectation it equals the sinusoid's, since E[q^T R(k w) q] = sum_i E|q_i|^2 cos(k w_i) and "
                       "RoPE and Vaswani share w_i = 10000^(-2i/d); the gap is sampling noise.") + "*", "",
            f"<!-- plot data fingerprint (drift check): {dot['fingerprint']} -->", ""]
    return "\n".join(out)


def _render_matrix_plots(out_dir: Path, plt: Any) -> list[Path]:
    from pe_spec import matrix as M

    written = []
    heat = _heatmap_data()
    names = {k: M.make_encoding(k).name for k in M.ROWS}
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.2))
    for ax, key in zip(axes.ravel(), M.ROWS):
        v = np.ma.masked_invalid(heat[key].T)
        im = ax.imshow(v, aspect="auto", origin="lower", interpolation="nearest", cmap="viridis",
                       extent=(-0.5, HEATMAP_POSITIONS - 0.5, -0.5, M.DIM - 0.5))
        ax.axvline(M.TRAIN_LENGTH - 0.5, color="white", ls="--", lw=1.2)
        ax.set_title(names[key])
        ax.set_xlabel("position p")
        ax.set_ylabel("channel")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        if key == "learned_table":
            ax.text(M.TRAIN_LENGTH + 32, M.DIM / 2, "IndexError\n(no row)", ha="center", va="center", fontsize=8)
    fig.suptitle(f"The six encodings over positions 0..{HEATMAP_POSITIONS - 1} x {M.DIM} channels "
                 f"(dashed: training length {M.TRAIN_LENGTH})")
    fig.tight_layout()
    path = out_dir / PLOTS[2]
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    written.append(path)

    dot = _dot_offset_data()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9), sharey=True)
    styles = {DOT_BASE_POSITIONS[0]: ("--", "tab:orange"), DOT_BASE_POSITIONS[1]: (":", "tab:red")}
    for ax, name, plot in ((axes[0], "lin", axes[0].plot), (axes[1], "log", axes[1].semilogx)):
        k = dot[f"k_{name}"]
        plot(k, dot[f"sin_{name}"], "-", color="tab:blue", lw=1.6, label="sinusoidal <PE(p), PE(p+k)>")
        for p0, (ls, col) in styles.items():
            plot(k, dot[f"rope_{name}_{p0}"], ls, color=col, lw=1.2,
                 label=f"RoPE mean over q of <rope(q, p), rope(q, p+k)>, p = {p0}")
        ax.axhline(0, color="0.5", lw=0.6)
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("offset k" + (" (log scale)" if name == "log" else ""))
    axes[0].set_ylabel("score / score at k = 0")
    axes[0].legend(loc="upper right", fontsize=7.5)
    fig.suptitle(f"Dot product against offset, d = {DOT_DIM}, base 10000 (normalised to 1 at k = 0)")
    fig.tight_layout()
    path = out_dir / PLOTS[3]
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    written.append(path)

    table = _horizon_data()["table"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(M.HORIZON_DTYPES)
    colors = {"float32": "tab:blue", "bfloat16": "tab:orange", "float16": "tab:green"}
    x = np.arange(len(M.HORIZON_DIMS))
    for j, dt in enumerate(M.HORIZON_DTYPES):
        hs = [table[d, dt][0] for d in M.HORIZON_DIMS]
        found = [table[d, dt][1] for d in M.HORIZON_DIMS]
        bars = ax.bar(x + (j - (len(M.HORIZON_DTYPES) - 1) / 2) * width, hs, width, color=colors.get(dt),
                      label=dt, edgecolor="black", linewidth=0.5)
        for b, h, f in zip(bars, hs, found):
            if not f:
                b.set_hatch("//")
            ax.text(b.get_x() + b.get_width() / 2, h * 1.15, str(h) if f else "≥", ha="center", va="bottom",
                    fontsize=7, rotation=90 if f else 0)
    ax.set_yscale("log", base=2)
    ax.set_ylim(1, M.HORIZON_MAX_POSITIONS * 64)
    ax.axhline(M.HORIZON_MAX_POSITIONS, color="0.4", ls=":", lw=0.8)
    ax.set_xticks(x, [f"d = {d}" for d in M.HORIZON_DIMS])
    ax.set_ylabel("uniqueness horizon (positions)")
    ax.legend(title="dtype (hatched: no repeat below the bound, a lower bound)", fontsize=8, title_fontsize=8,
              loc="upper center", ncol=len(M.HORIZON_DTYPES))
    ax.set_title(f"Vaswani sinusoids: positions distinguishable after rounding (search bound "
                 f"2^{int(math.log2(M.HORIZON_MAX_POSITIONS))})")
    fig.tight_layout()
    path = out_dir / PLOTS[4]
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    written.append(path)
    return written


# --------------------------------------------------------------------------------------------
# entry points

def render_markdown() -> dict[str, str]:
    """Relative path under docs/ -> Markdown text, for every generated page."""
    from pe_spec import clauses

    checks = _load_checks()
    verdicts: dict[str, Any] = {}
    pages = {"index.md": render_index(checks), "clauses.md": render_index_of_clauses(checks),
             "rope.md": render_rope_page(checks, verdicts), "impl.md": render_impl_page(checks, verdicts),
             "tolerance.md": render_tolerance_page(), "property-matrix.md": render_matrix_page()}
    for fam in sorted({c.family for c in clauses.all_clauses()}):
        page = page_for(fam)
        if page not in pages:
            pages[page] = render_generic_page(fam, checks, verdicts)
    return {k: v if v.endswith("\n") else v + "\n" for k, v in pages.items()}


def write(out_dir: Path = DOCS_DIR, *, plots: bool = True) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in render_markdown().items():
        path = out_dir / rel
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    if plots:
        written += render_plots(out_dir)
    return written


def stale(out_dir: Path = DOCS_DIR) -> list[str]:
    """Generated files that are missing under out_dir or differ from what the code generates now."""
    problems = []
    for rel, text in render_markdown().items():
        path = out_dir / rel
        if not path.is_file():
            problems.append(f"{rel} (missing)")
        elif path.read_bytes() != text.encode("utf-8"):
            problems.append(f"{rel} (differs from the generated text)")
    for rel in PLOTS:
        if not (out_dir / rel).is_file():
            problems.append(f"{rel} (missing)")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pe_spec.docs", description="Generate docs/ from the registry and the code.")
    ap.add_argument("--check", action="store_true", help="exit 1 listing stale files instead of writing")
    ap.add_argument("--out", type=Path, default=DOCS_DIR, help=f"output folder (default {DOCS_DIR})")
    ap.add_argument("--no-plots", action="store_true", help="write the Markdown only")
    args = ap.parse_args(argv)
    if args.check:
        problems = stale(args.out)
        if problems:
            print("pe_spec.docs: stale generated docs; run `python -m pe_spec.docs`:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
        print(f"pe_spec.docs: {args.out} is up to date")
        return 0
    for path in write(args.out, plots=not args.no_plots):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
