"""Correct kernels bundled with pe-spec (RoPE in the styles real code uses, sinusoidal tables
in each named convention).

They are what README command 1 checks (``pe-spec check examples:rope_half_cached``) and what
the suite's own tests require to pass every clause. Each computes inverse frequencies and
angles in float32 from int64 aranges, as a correct kernel must.
"""
from pe_spec.examples.rope import (
    rope_half_cached,
    rope_half_partial,
    rope_interleaved_complex,
    rope_interleaved_pairs,
)

from pe_spec.examples.sinusoidal import (
    sinusoidal_concat,
    sinusoidal_fairseq,
    sinusoidal_tensor2tensor,
    sinusoidal_vaswani,
)

__all__ = ["sinusoidal_vaswani", "sinusoidal_concat", "sinusoidal_tensor2tensor", "sinusoidal_fairseq",
           "rope_half_cached", "rope_interleaved_complex", "rope_interleaved_pairs", "rope_half_partial"]
