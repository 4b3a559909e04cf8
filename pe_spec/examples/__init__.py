"""Correct RoPE kernels bundled with pe-spec, in the styles real code uses.

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

__all__ = ["rope_half_cached", "rope_interleaved_complex", "rope_interleaved_pairs", "rope_half_partial"]
