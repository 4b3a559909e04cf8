"""Float64 reference for sinusoidal absolute position encodings, exact for integer |p| < 2**31.

One function, several named conventions that are NOT the same function (formulas.md section 1
and "where sources disagree", D1). With K = floor(dim / 2) (sin, cos) pairs, pair k has
frequency w_k and contributes sin(q * w_k) and cos(q * w_k), where q = position + offset:

  convention     layout                          w_k                         offset  odd dim
  vaswani        interleaved: sin 2k, cos 2k+1   base**(-2k/d) = base**(-k/K)     0  error
  concat         [sin_0..sin_{K-1} | cos ...]    base**(-2k/d)                    0  error
  tensor2tensor  [sin | cos] (+ one zero col.)   base**(-k/(K-1))                 0  pad
  fairseq        [sin | cos] (+ one zero col.)   base**(-k/(K-1))     padding_idx + 1  pad
  whisper        [sin | cos]                     base**(-k/(K-1))                 0  error

Vaswani's lowest frequency is base**(-(d-2)/d) (1.0366e-4 for d = 512, base = 10000); the
tensor2tensor family's is exactly 1/base (min_timescale = 1, max_timescale = base).

"Exact" means the error is far below any float64 rounding of the result: frequencies are
evaluated in 50-digit arithmetic and kept as double-doubles, and the angle is formed and
reduced modulo 2*pi exactly (``pe_spec.exact``); every entry is within 1e-15 of the true
value (measured worst 3.9e-16, about 1.8 ulps of 1.0) at any position. tests/test_sinusoidal_reference.py checks this against 50-digit mpmath.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pe_spec.spec import exact

__all__ = ["Convention", "CONVENTIONS", "LAYOUTS", "DENOMINATORS", "get_convention",
           "fairseq_convention", "frequencies", "angles", "table", "pair_channels",
           "MAX_ABS_POSITION"]

LAYOUTS: tuple[str, ...] = ("interleaved", "concat")
DENOMINATORS: tuple[str, ...] = ("vaswani", "t2t")
MAX_ABS_POSITION = exact.MAX_ABS_POSITION


@dataclass(frozen=True)
class Convention:
    """A named sinusoidal convention.

    layout        'interleaved' (sin of pair k at column 2k, cos at 2k+1) or 'concat' (sin of pair
                  k at column k, cos at column K + k).
    denominator   'vaswani': w_k = base**(-2k/d) = base**(-k/K) (the paper, i counts PAIRS);
                  't2t': w_k = base**(-k/(K-1)) (tensor2tensor's
                  log(max_timescale/min_timescale)/(K-1) increment with min_timescale = 1), so
                  the last frequency is exactly 1/base. For K = 1 the denominator is
                  max(K-1, 1) = 1 (later t2t), giving w_0 = 1.
    position_offset  added to every position before the angle is formed: the encoding of
                  position p is the sinusoid at q = p + position_offset.
    odd_dim       'error': dim must be even; 'pad': an odd dim gets K = (d-1)/2 pairs and one
                  all-zero column at the end (tensor2tensor, fairseq).
    min_dim       smallest dim the convention defines (fairseq and Whisper divide by K - 1, so
                  they need K >= 2).
    """

    name: str
    layout: str
    denominator: str
    position_offset: int = 0
    odd_dim: str = "error"
    min_dim: int = 2
    source: str = ""

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown sinusoidal layout {self.layout!r}; expected one of {', '.join(LAYOUTS)}")
        if self.denominator not in DENOMINATORS:
            raise ValueError(f"unknown frequency denominator {self.denominator!r}; expected one of "
                             f"{', '.join(DENOMINATORS)}")
        if self.odd_dim not in ("error", "pad"):
            raise ValueError(f"odd_dim must be 'error' or 'pad', got {self.odd_dim!r}")
        if not isinstance(self.position_offset, (int, np.integer)) or isinstance(self.position_offset, bool):
            raise TypeError(f"position_offset must be an int, got {self.position_offset!r}")
        if self.min_dim < 2:
            raise ValueError(f"min_dim must be >= 2, got {self.min_dim}")

    def check_dim(self, dim: int) -> int:
        """dim, after checking this convention defines it; ValueError saying what it requires."""
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"dim must be an int, got {dim!r}")
        dim = int(dim)
        if dim % 2 and self.odd_dim == "error":
            pairs = ("interleaved (sin, cos) pairs at columns (2i, 2i+1)" if self.layout == "interleaved"
                     else "a [sin | cos] split into two equal halves")
            raise ValueError(f"sinusoidal convention {self.name!r} requires an even dim ({pairs}), got {dim}")
        if dim < self.min_dim:
            why = (" (its frequency exponent divides by d/2 - 1)" if self.min_dim > 2 else "")
            raise ValueError(f"sinusoidal convention {self.name!r} requires dim >= {self.min_dim}{why}, got {dim}")
        return dim

    def pairs(self, dim: int) -> int:
        """K = floor(dim / 2): the number of (sin, cos) pairs, i.e. of frequencies."""
        return self.check_dim(dim) // 2


_T2T_SRC = ("tensorflow/tensor2tensor tensor2tensor/layers/common_attention.py "
            "get_timing_signal_1d (min_timescale=1, max_timescale=base, start_index=0)")

CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in (
        Convention("vaswani", "interleaved", "vaswani",
                   source="Vaswani et al. 2017, 'Attention Is All You Need', section 3.5"),
        Convention("concat", "concat", "vaswani",
                   source="Vaswani frequencies in the [sin | cos] layout many libraries use"),
        Convention("tensor2tensor", "concat", "t2t", odd_dim="pad", source=_T2T_SRC),
        Convention("fairseq", "concat", "t2t", position_offset=2, odd_dim="pad", min_dim=4,
                   source="facebookresearch/fairseq fairseq/modules/sinusoidal_positional_embedding.py "
                          "with padding_idx = 1 (positions from utils.make_positions)"),
        Convention("whisper", "concat", "t2t", min_dim=4,
                   source="openai/whisper whisper/model.py sinusoids(length, channels, max_timescale=10000) "
                          "(audio encoder only; the text decoder's positional embedding is learned)"),
    )
}
"""The named conventions. Notes on the ones beyond the paper:

fairseq: ``SinusoidalPositionalEmbedding.get_embedding`` builds rows r = 0, 1, 2, ... with
  angles r * w_k (t2t frequencies, [sin | cos], odd dim zero-padded) and zeroes row
  ``padding_idx``; ``utils.make_positions`` gives the n-th non-padding token of a sequence
  (n = 0, 1, ...) the row n + padding_idx + 1. Here a fairseq *position* is that n, the
  0-based index of the token among the non-padding tokens of its sequence (for an unpadded or
  right-padded batch, simply the token index), and its encoding is the sinusoid at
  q = n + padding_idx + 1; with fairseq's usual padding_idx = 1 the first token is encoded at
  q = 2. Row padding_idx (all zeros) is the padding token's embedding, not a position, and rows
  below it are never used; the reference does not reproduce them. For another padding_idx use
  ``fairseq_convention(padding_idx)``; fairseq's padding_idx=None means 0 (offset 1). fairseq
  computes the table in float32; the reference is the exact function it approximates.

whisper: the same function as tensor2tensor (``log_timescale_increment = log(max_timescale) /
  (channels // 2 - 1)``, ``inv_timescales = exp(-increment * arange(channels // 2))``, angles
  ``arange(length) * inv_timescales``, ``cat([sin, cos])``), positions from 0, but it asserts
  an even channel count (no zero padding) and for channels = 2 divides by zero (the row is NaN),
  so the convention requires an even dim >= 4. fairseq likewise needs dim >= 4 (its
  ``half_dim - 1`` denominator), while tensor2tensor's later ``max(K - 1, 1)`` accepts dim >= 2.
"""


def fairseq_convention(padding_idx: int | None = 1) -> Convention:
    """fairseq's convention for a given padding index: positions start at padding_idx + 1
    (padding_idx=None is fairseq's default of 0)."""
    pad = 0 if padding_idx is None else int(padding_idx)
    if pad < 0:
        raise ValueError(f"padding_idx must be >= 0, got {padding_idx}")
    base = CONVENTIONS["fairseq"]
    name = "fairseq" if pad == 1 else f"fairseq(padding_idx={pad})"
    return Convention(name, base.layout, base.denominator, position_offset=pad + 1,
                      odd_dim=base.odd_dim, min_dim=base.min_dim, source=base.source)


def get_convention(convention: str | Convention) -> Convention:
    if isinstance(convention, Convention):
        return convention
    try:
        return CONVENTIONS[convention]
    except (KeyError, TypeError):
        raise ValueError(f"unknown sinusoidal convention {convention!r}; expected a Convention or one of "
                         f"{', '.join(CONVENTIONS)}") from None


def _check_base(base: float) -> float:
    base = float(base)
    if not (base > 1.0 and np.isfinite(base)):
        raise ValueError(f"base must be a finite number > 1, got {base}")
    return base


@lru_cache(maxsize=256)
def _freq_double_double(npairs: int, base: float, denominator: str) -> tuple[np.ndarray, np.ndarray]:
    import mpmath

    with mpmath.workdps(exact.DIGITS):
        b = mpmath.mpf(base)
        den = npairs if denominator == "vaswani" else max(npairs - 1, 1)
        values = [b ** (-mpmath.mpf(k) / den) for k in range(npairs)]
        hi, lo = exact.double_double(values)
    hi.setflags(write=False)
    lo.setflags(write=False)
    return hi, lo


def _dd(dim: int, base: float, conv: Convention) -> tuple[np.ndarray, np.ndarray]:
    return _freq_double_double(conv.pairs(dim), _check_base(base), conv.denominator)


def frequencies(dim: int, base: float = 10000.0, convention: str | Convention = "vaswani") -> np.ndarray:
    """w_k, k = 0..K-1, correctly rounded to float64 (w_0 = 1; radians per position)."""
    conv = get_convention(convention)
    return _dd(dim, base, conv)[0].copy()


def angles(positions, dim: int, base: float = 10000.0, convention: str | Convention = "vaswani") -> np.ndarray:
    """(p + offset) * w_k reduced to [-pi, pi]: shape positions.shape + (K,), float64."""
    conv = get_convention(convention)
    hi, lo = _dd(dim, base, conv)
    q = exact.check_positions(positions, offset=int(conv.position_offset))
    return exact.reduced_angles(q, hi, lo)


def pair_channels(dim: int, convention: str | Convention = "vaswani") -> tuple[np.ndarray, np.ndarray]:
    """(sin_columns, cos_columns): the columns holding sin(q w_k) and cos(q w_k), k = 0..K-1.

    interleaved: (2k, 2k+1); concat: (k, K + k). A padded odd dim's last column (d - 1) is in
    neither: it is identically zero.
    """
    conv = get_convention(convention)
    K = conv.pairs(dim)
    k = np.arange(K)
    if conv.layout == "interleaved":
        return 2 * k, 2 * k + 1
    return k, K + k


def table(positions, dim: int, base: float = 10000.0, convention: str | Convention = "vaswani") -> np.ndarray:
    """The encoding of each integer position: shape positions.shape + (dim,), float64.

    For 1-D positions that is [len(positions), dim]. Exact (see the module doc) for
    |position + offset| < 2**31; TypeError for non-integer positions, ValueError beyond.
    """
    conv = get_convention(convention)
    theta = angles(positions, dim, base, conv)
    K = theta.shape[-1]
    out = np.zeros(theta.shape[:-1] + (dim,), dtype=np.float64)
    # Basic slices (not the index arrays of pair_channels) so the ufuncs write in place.
    sin_view, cos_view = ((out[..., 0:2 * K:2], out[..., 1:2 * K:2]) if conv.layout == "interleaved"
                          else (out[..., :K], out[..., K:2 * K]))
    np.sin(theta, out=sin_view)
    np.cos(theta, out=cos_view)
    return out
