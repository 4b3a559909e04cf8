"""regimes.md: the input regimes every check draws (pe_spec.spec.regimes), what each draws, the bug
class found only there, which checks reach it, and the families it cannot apply to."""
from __future__ import annotations

from pe_spec.spec import dtypes, registry
from pe_spec.spec import regimes as R
from pe_spec.spec import tolerance as T

from .. import markdown as md
from .common import Context, spec_heading

PAGE = "regimes.md"


def render(ctx: Context) -> str:
    families = registry.families()
    out = [spec_heading("Input regimes"), "",
           md.generated_by(f"from {md.source_path(R.__name__)}"), "",
           md.esc(md.paragraph(R.__doc__, 0)), "",
           md.esc(md.paragraph(R.__doc__, 1)), "",
           "Every `pe-spec check` report has a regimes section (JSON `regimes`, a table in the Markdown report, "
           "one line in the terminal): for each regime the tests that reached it and their examples, or why it "
           "cannot apply to the kernel's family. pe-spec's own tests assert that every bundled kernel's check "
           "reaches every regime that applies to it.", "",
           "## The regimes", ""]
    header = ["regime", "draws", "bugs found only there", "reached by"] + [f"`{f.name}`" for f in families]
    rows = []
    for r in R.REGIMES:
        cells = ["n/a" if r.name in f.regimes_not_applicable else "yes" for f in families]
        rows.append([f"`{r.name}`", md.esc(r.draws), md.esc(r.bugs), md.esc(r.where), *cells])
    out += md.table(header, rows) + [""]
    declared = [r for r in R.REGIMES if r.declaration]
    if declared:
        out += ["A kernel may exclude a regime by a declaration; its report then lists the regime as not "
                "reached and names the declaration:", ""]
        out += [f"- `{r.name}`: `{r.declaration}` below {r.excluded_below}" for r in declared] + [""]
    for f in families:
        if f.regimes_not_applicable:
            out += [f"Not applicable to `{f.name}` kernels:", ""]
            out += [f"- `{name}`: {md.esc(why)}" for name, why in f.regimes_not_applicable.items()] + [""]
    out += ["## Sizes and magnitudes", ""]
    out += md.table(["constant", "value"], [[f"`{k}`", repr(v)] for k, v in constants()]) + [""]
    rows = [[f"`{dt}`", f"`{T.range_dtype(dt)}`", md.g(R.magnitude_scale("huge", dt) * R.MAGNITUDE_CLIP),
             md.g(dtypes.LARGEST[T.range_dtype(dt)]), md.g(R.magnitude_scale("tiny", dt)),
             md.g(T.floor_bound(dt))] for dt in dtypes.FLOAT_DTYPES]
    out += ["What the magnitude regimes draw per dtype, and the floor the [tolerance model](tolerance.md) allows "
            "there (a float64 input is drawn in fp32's range: it may be computed in fp32):", ""]
    out += md.table(["dtype", "range dtype", "largest abs(x) drawn (huge)", "largest finite", "typical abs(x) (tiny)",
                     "floor F per pair"], rows) + [""]
    out += ["## The 2**31 threshold", "",
            f"Index arithmetic in signed 32 bits wraps once an element index reaches 2**31: a tensor (or the "
            f"storage a view reaches into) of {R.INT32_WRAP_ELEMENTS:,} elements, "
            f"{R.INT32_WRAP_ELEMENTS * 2 / 2**30:g} GiB in bf16 or fp16, {R.INT32_WRAP_ELEMENTS * 4 / 2**30:g} GiB "
            f"in fp32, {R.INT32_WRAP_ELEMENTS * 8 / 2**30:g} GiB in float64. A CPU check cannot hold that: every "
            "test runs under a memory limit (default 3/4 of RAM, with room to report) beside the reference's "
            "float64 copies, and filling it takes minutes per example. The large-storage regime places x at the "
            f"far end of an uninitialised buffer of {R.LARGE_STORAGE_ELEMENTS:,} elements instead: only x's own "
            "pages are touched, and every element index is past 2**24, where offsets computed in fp32 (or by a "
            "24-bit multiply) first go wrong. A genuine int32 wrap is left to a device run with the memory for it.", ""]
    return "\n".join(out)


def constants() -> list[tuple[str, object]]:
    """The module's numeric constants (sizes, magnitudes), in definition order."""
    def numeric(v) -> bool:
        return isinstance(v, (int, float)) or (isinstance(v, tuple) and all(isinstance(e, int) for e in v))

    return [(k, v) for k, v in vars(R).items() if k.isupper() and numeric(v) and not isinstance(v, bool)]
