"""The RoPE known-bug table: one row per module of this directory (see tests/known_bug_table.py
for what main, fails, incidental and must_pass mean, and how rows are judged).

Each clause named as failing fails because the kernel violates its property:
  fails       the bug itself violates the clause (the clause meant to catch it, and the clauses
              that re-check the output against the reference, see REFERENCE). Required.
  incidental  the property holds for the kernel in exact arithmetic, but the kernel's own
              rounding, at its wrong frequencies or on channels it should not touch, exceeds the
              spec's allowance (sized for the true w_i and the declared rotary channels): within
              the tolerance model it fails, yet only on examples that reach that regime. Allowed,
              not required; each entry says why, and the module docstring names it.
  must_pass   the property holds for this kernel: the bug is invisible to the clause (the
              sin-sign flip keeps relative-shift invariance: only the reference sees it), or the
              clause compares two outputs of the kernel that agree (equal NaNs at the same
              places, an input the suite restored). Required to pass.
No clause fails although its property holds: the suite has no known false failure on these kernels.
"""
from known_bug_table import Bug, row_builder

# A bug in the rotation's values fails rope.reference and every clause that re-checks the output
# against the reference: the cache edge, the gradient, under autocast or a bf16 default dtype, and
# compiled (impl.compile draws the pooled config serving the longest context: head_dim 96,
# rotary_dim 48, base 1e7, max_position 2**25). rope.positions is not among them: it compares
# subsets of rows with the full call, which a row-wise value bug keeps consistent.
REFERENCE = frozenset({"rope.reference", "rope.cache-coverage", "rope.gradient", "impl.environment",
                       "impl.compile"})

# Two outputs of the kernel compared with each other: they hold equal NaNs at the same places for a
# kernel whose NaNs depend only on the position (fp16 angles or positions), which is agreement.
NAN_AGREEMENT = ("impl.determinism", "impl.batch-independence", "impl.stride-invariance", "rope.linearity")

# The kernel's angles are larger than p * w_i: their rounding exceeds the allowance sized for w_i.
FASTER_ANGLES = "its angles are larger than p * w_i, and their rounding exceeds the allowance for w_i"


bug = row_builder("rope.reference")


BUGS: dict[str, Bug] = {
    # --- precision ---
    "inv_freq_bf16": bug("rope.reference", REFERENCE,
                         must_pass=("rope.positions", "rope.relative-shift", "rope.composition", "rope.norm",
                                    "rope.zero")),
    "positions_fp16": bug("rope.reference", REFERENCE, "rope.relative-shift", "rope.composition", "rope.norm",
                          must_pass=("rope.positions", "rope.zero", *NAN_AGREEMENT)),
    # Compiled, it is right: inductor does not emulate the intermediate half-precision cast
    # (torch._inductor.config.emulate_precision_casts is False), so impl.compile is not required.
    "angles_half_before_cos": bug("rope.reference", REFERENCE - {"impl.compile"}, "rope.relative-shift",
                                  "rope.composition", "rope.norm",
                                  must_pass=("rope.positions", "rope.zero", *NAN_AGREEMENT)),
    "autocast_angles": bug("impl.environment", must_pass=("rope.reference", "impl.compile")),
    "default_dtype_arange": bug("impl.environment", must_pass=("rope.reference",)),
    "angle_cache_default_dtype": bug("impl.environment",
                                     must_pass=("rope.reference", "rope.positions", "impl.determinism")),
    # --- frequency schedule ---
    "exponent_i_over_d": bug("rope.reference", REFERENCE,
                             incidental={"rope.composition": FASTER_ANGLES},
                             must_pass=("rope.positions", "rope.relative-shift", "rope.zero", "rope.norm")),
    "exponent_head_dim": bug("rope.reference", REFERENCE,
                             incidental={"rope.composition": FASTER_ANGLES},
                             must_pass=("rope.positions", "rope.relative-shift", "rope.pass-through",
                                        "rope.zero")),
    "roformer_one_based": bug("rope.reference", REFERENCE,
                              incidental={"rope.composition": FASTER_ANGLES + " (w_0 = base**(2/d) > 1)",
                                          "rope.relative-shift": FASTER_ANGLES + " (w_0 = base**(2/d) > 1)"},
                              must_pass=("rope.positions", "rope.zero", "rope.norm")),
    "base_ignored": bug("rope.reference", REFERENCE,
                        incidental={"rope.composition": FASTER_ANGLES + " (base 10000 where 1e6 or 1e7 is configured)"},
                        must_pass=("rope.positions", "rope.relative-shift", "rope.zero", "rope.norm")),
    # --- layout and rotation ---
    "layout_declared_interleaved_computes_half": bug(
        "rope.reference", REFERENCE, "rope.norm",
        incidental={"rope.composition": "each declared pair is turned at other pairs' frequencies, and their "
                                        "rounding exceeds the pair's allowance",
                    "rope.linearity": "the same rounding on mixed pairs"},
        must_pass=("rope.positions", "rope.relative-shift", "rope.zero")),
    "freqs_repeat_interleave_with_rotate_half": bug("rope.relative-shift", REFERENCE, "rope.norm",
                                                    "rope.composition", must_pass=("rope.positions", "rope.zero")),
    "sin_sign_flipped": bug("rope.reference", REFERENCE,
                            must_pass=("rope.positions", "rope.relative-shift", "rope.norm", "rope.zero",
                                       "rope.composition", "rope.linearity")),
    "cos_sin_swapped": bug("rope.zero", REFERENCE, "rope.composition",
                           must_pass=("rope.positions", "rope.relative-shift", "rope.norm", "rope.linearity")),
    "partial_rotary_suffix": bug("rope.pass-through", REFERENCE,
                                 incidental={"rope.relative-shift": "the score's allowance covers the declared rotary "
                                                                    "prefix, not the rounding of the rotated suffix"},
                                 must_pass=("rope.positions", "rope.norm", "rope.zero", "rope.composition")),
    # --- positions and caches ---
    "positions_ignored": bug("rope.positions", REFERENCE, "rope.zero", "rope.composition",
                             must_pass=("rope.relative-shift", "rope.norm")),
    "positions_off_by_one": bug("rope.zero", REFERENCE, "rope.composition",
                                must_pass=("rope.positions", "rope.relative-shift", "rope.norm")),
    "cache_wraps": bug("rope.cache-coverage", must_pass=("rope.reference", "rope.positions")),
    "cache_clamps": bug("rope.cache-coverage", must_pass=("rope.reference", "rope.positions")),
    # --- implementation contract ---
    # Writing into an expanded (stride-0) input raises: impl.stride-invariance.
    "in_place_rotation": bug("impl.no-mutation", "impl.no-aliasing", "rope.gradient", "impl.stride-invariance",
                             must_pass=("rope.reference", "rope.positions", "rope.cache-coverage",
                                        "rope.relative-shift", "rope.composition", "rope.norm", "rope.zero",
                                        "rope.linearity", "impl.batch-independence",
                                        "impl.determinism", "impl.environment", "impl.compile")),
    # A float64 input comes back rounded to float32, its pass-through channels too.
    "output_dtype_float32": bug("impl.dtype-shape", "rope.pass-through", "rope.gradient", must_pass=("rope.reference",)),
    "strides_assumed_contiguous": bug("impl.stride-invariance",
                                      must_pass=("rope.reference", "impl.batch-independence")),
    "backward_rotates_forward": bug("rope.gradient", must_pass=("rope.reference", "impl.compile")),
    # --- input regimes (pe_spec.spec.regimes): each kernel is wrong only in its regime ---
    # The float64 fallback pairs (2i, 2i+1) where half is declared: as the layout bug, on float64 only.
    "float64_fallback_interleaved": bug(
        "rope.reference", REFERENCE, "rope.norm",
        incidental={"rope.composition": "each declared pair is turned at other pairs' frequencies, and their "
                                        "rounding exceeds the pair's allowance",
                    "rope.linearity": "the same rounding on mixed pairs"},
        must_pass=("rope.positions", "rope.relative-shift", "rope.zero")),
    # impl.compile draws one configuration (head_dim 96): no wide head there.
    "channel_tile_capped": bug("rope.reference", REFERENCE - {"impl.compile"}, "rope.norm", "rope.relative-shift",
                               "rope.composition", must_pass=("rope.positions", "rope.zero", "rope.linearity",
                                                              "rope.pass-through")),
    # Whether a row is rotated depends on its head index: permuting rows across index 32 changes them.
    "head_loop_capped": bug("rope.reference", REFERENCE - {"impl.compile"}, "impl.batch-independence",
                            incidental={"impl.compile": "only its many-heads examples show the bug, and impl.compile "
                                                        "draws 6 examples per dtype"},
                            must_pass=("rope.norm", "rope.relative-shift", "rope.composition", "rope.zero",
                                       "rope.positions")),
    # The gathered copy holds other elements than x's: every clause reading the output of a
    # large-storage input against x itself fails (a sliced or permuted copy is compact, so right).
    "storage_offset_float32": bug("rope.reference", REFERENCE - {"impl.compile"}, "rope.norm", "rope.zero",
                                  "rope.pass-through", "rope.linearity", "rope.positions",
                                  "impl.batch-independence",
                                  must_pass=("impl.dtype-shape", "impl.determinism", "impl.no-mutation",
                                             "impl.stride-invariance")),
    # rope.cache-coverage calls it on six positions: one tile.
    "last_tile_shifted": bug("rope.reference", REFERENCE - {"rope.cache-coverage"}, "rope.positions",
                             must_pass=("rope.relative-shift", "rope.composition", "rope.norm", "rope.linearity",
                                        "rope.zero")),
    "bf16_through_fp16": bug("rope.reference", REFERENCE, "rope.norm", "rope.zero", "rope.pass-through",
                             "rope.linearity", must_pass=("impl.determinism", "impl.dtype-shape")),
    "complex_view_strided_last": bug("impl.stride-invariance", must_pass=("rope.reference", "rope.positions")),
    "first_use_cache_default_dtype": bug("impl.environment", must_pass=("rope.positions", "impl.determinism")),
    "cache_negative_ids_wrap": bug("rope.cache-coverage", must_pass=("rope.reference", "rope.positions")),
    # --- accelerator kernels (a Triton program, run by Triton's interpreter where there is no GPU) ---
    "triton_cos_batch_offset": bug(
        "device.counterpart", REFERENCE - {"impl.compile"}, "impl.batch-independence", "rope.positions",
        incidental={"impl.compile": "only examples with batch > 1 and seq > 1 show the bug, and impl.compile "
                                    "draws 6 examples per dtype",
                    "rope.composition": "batch > 0 rows turn by other tokens' larger angles, whose rounding "
                                        "exceeds the allowance sized for the claimed positions",
                    "rope.relative-shift": "the same rounding of other tokens' angles in the scores"},
        must_pass=("rope.norm", "rope.zero", "rope.linearity", "rope.pass-through", "impl.no-mutation",
                   "impl.stride-invariance", "impl.determinism", "impl.dtype-shape")),
}
