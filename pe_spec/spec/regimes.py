"""The input regimes every check draws from: where whole classes of kernel bugs live (one place).

A regime is a kind of input a user's kernel meets in production and a buggy kernel gets wrong
only there: a dtype sent down a fallback path, a head dim past a tile cap, a head count past a
loop cap, index arithmetic past 2**24, a sequence past a block size, a last-dim stride, a value
range, a default dtype, a process-level cache built at first use, a negative position. The
strategies of every family draw them (pe_properties), each example is tagged with the regimes it
reaches, and every report says which tests reached each regime, or why it cannot apply to the
kernel's family (Family.regimes_not_applicable). docs/regimes.md is generated from this module.
"""
from __future__ import annotations

from dataclasses import dataclass

# ---- sizes the strategies draw ----

# Storage extent of the large-storage regime: x is a view at the far end of a buffer this long
# (allocated uninitialised, so only x's own pages are touched): every element index of x is past
# 2**24, where index arithmetic in fp32 (or a 24-bit multiply) first goes wrong.
LARGE_STORAGE_ELEMENTS = 2**25
# The elements just before that view are NaN: a kernel whose index arithmetic reads before x's
# first element reads the same values on every call (uninitialised memory would differ from call
# to call, which hypothesis reports as a flaky test instead of the kernel's failure), and a NaN
# output points at the out-of-view read.
LARGE_STORAGE_GUARD = 4096
# The real 32-bit wrap (signed int32 offsets) needs an extent of 2**31 elements: 4 GiB in bf16,
# 8 GiB in fp32, 16 GiB in float64, for one tensor; more than the suite may hold on a CPU under its
# memory limit (default 3/4 of RAM for every test, with room to report), and minutes to fill.
INT32_WRAP_ELEMENTS = 2**31
# Sequence lengths past the common block sizes (64..1024 rows) and not a multiple of them.
LONG_SEQUENCES = (1500, 3000, 4097)


def long_sequences(max_seq_len: int | None, room: int) -> list[int]:
    """The LONG_SEQUENCES an example may draw: within the kernel's declared max_seq_len (if any)
    and the room its positions have."""
    return [n for n in LONG_SEQUENCES if n <= room and (max_seq_len is None or n <= max_seq_len)]


# Head dims past the common 256-channel cap: 288, 320, 512 and odd multiples of 8 above 256.
WIDE_HEAD_DIMS = (288, 320, 512, 264, 392)
# Head counts of large un-sharded models in one call (Llama 70B: 64, Falcon 180B: 232 ...).
MANY_HEADS = (40, 64, 128)
# Magnitudes: standard-normal values clipped to +-MAGNITUDE_CLIP, scaled so the largest is
# LARGEST / HUGE_DIVISOR of the range dtype (huge: a sum of two products stays finite), or so
# the typical one is TINY_MULTIPLE smallest normals (tiny: components reach the subnormals).
MAGNITUDE_CLIP = 4.0
HUGE_DIVISOR = 64.0
TINY_MULTIPLE = 64.0


def magnitude_scale(magnitude: str, dtype: str) -> float:
    """The factor standard-normal values (clipped to +-MAGNITUDE_CLIP) are scaled by in a magnitude
    regime, for inputs of dtype: within its range dtype (tolerance.range_dtype)."""
    from pe_spec.spec import dtypes, tolerance

    range_dtype = tolerance.range_dtype(dtype)
    if magnitude == "huge":
        return dtypes.LARGEST[range_dtype] / (HUGE_DIVISOR * MAGNITUDE_CLIP)
    if magnitude == "tiny":
        return TINY_MULTIPLE * dtypes.SMALLEST_NORMAL[range_dtype]
    raise ValueError(f"unknown magnitude regime {magnitude!r}: 'huge' or 'tiny'")


@dataclass(frozen=True)
class Regime:
    name: str
    draws: str        # what the strategies draw for it
    bugs: str         # the class of bugs found only there
    where: str        # which checks reach it
    declaration: str = ""   # the kernel declaration that can exclude it (the report names it)
    excluded_below: int = 0  # ... when its declared value is below this

    def excluded_by(self, declared: dict) -> str:
        """Why the kernel's declarations exclude this regime, or "" when they do not."""
        value = declared.get(self.declaration) if self.declaration else None
        if value is None or value >= self.excluded_below:
            return ""
        return f"excluded by the declaration {self.declaration}={value!r}"


REGIMES: tuple[Regime, ...] = (
    Regime("float64", "every check in float64, beside float32, bfloat16 and float16",
           "fused kernels send float64 (gradcheck, CPU reference runs) to a separate fallback path, "
           "written and tested apart", "every check"),
    Regime("wide-heads", f"head dims {', '.join(map(str, WIDE_HEAD_DIMS))} with few rows",
           "channel tiles and shared-memory buffers capped at 256 channels", "every check drawing x"),
    Regime("many-heads", f"{', '.join(map(str, MANY_HEADS))} heads in one call, with few channels and rows",
           "grids and head loops capped at 32 heads", "every check drawing x"),
    Regime("long-sequence", f"{', '.join(map(str, LONG_SEQUENCES))} consecutive tokens, one row of few channels",
           "the last tile of a blocked kernel shifted or masked wrongly", "every check drawing x",
           declaration="max_seq_len", excluded_below=min(LONG_SEQUENCES)),
    Regime("batched-decode", "x [batch > 1, heads > 1, 1, d] contiguous: one new token for several sequences",
           "a row stride taken from the size-1 sequence dim (Liger-Kernel 0.8.5, docs/findings/liger.md)",
           "every check drawing x"),
    Regime("large-storage", f"x a view at the far end of a {LARGE_STORAGE_ELEMENTS:,}-element buffer",
           f"index arithmetic in 32 bits or fp32 (wraps or rounds past 2**24; the real int32 wrap needs "
           f"{INT32_WRAP_ELEMENTS:,} elements, more than a CPU run may allocate)", "every check drawing x"),
    Regime("magnitude-huge", f"values up to LARGEST / {HUGE_DIVISOR:g} of the dtype",
           "a dtype routed through a narrower one (bf16 through fp16 overflows past 65504)", "every check drawing x"),
    Regime("magnitude-tiny", f"values of about {TINY_MULTIPLE:g} smallest normals, reaching the subnormals",
           "a dtype routed through a narrower one (bf16 through fp16 flushes to zero)", "every check drawing x"),
    Regime("strided-last", "a last dimension with stride 2 (x[..., ::2] of a wider tensor), in every dtype",
           "a kernel that assumes the last stride is 1 (a complex view, a vectorised load)",
           "impl.stride-invariance"),
    Regime("expanded", "a stride-0 (expanded) leading dimension", "a kernel writing into or indexing a "
           "broadcast input as if each row had its own memory", "impl.stride-invariance"),
    Regime("default-dtype-call", "the kernel built and called under torch.set_default_dtype(torch.bfloat16)",
           "float tensors made at call time without a dtype (torch.arange, torch.tensor)", "impl.environment"),
    Regime("fresh-process", "a fresh interpreter that sets the bf16 default dtype before importing the kernel "
           "and calls it once", "a module-level cache built at first use (zero.Init, bf16 loaders) and wrong "
           "for the rest of the process, which warmed in-process checks never see",
           "impl.environment#fresh-process"),
    Regime("negative-positions", "positions -1, -2 and below -max_position",
           "a cos/sin cache gathered with negative ids, Python-style, wrapping to its far end",
           "the family's cache-coverage check"),
)

BY_NAME = {r.name: r for r in REGIMES}
NAMES = tuple(r.name for r in REGIMES)


def get(name: str) -> Regime:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown regime {name!r}; pe-spec knows {', '.join(NAMES)}") from None
