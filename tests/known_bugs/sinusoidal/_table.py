"""The sinusoidal known-bug table: one row per module of this directory (see
tests/known_bug_table.py for what main, fails, incidental and must_pass mean, and how rows are judged).

Every module is a correct sinusoidal table with one bug (or a correct table with a wrong
declaration): the bug, the regime where it shows, the real-world bug it mirrors (known-bugs.md
ids: B-SIN-01..04, B-PREC-05/06/08/10), and the clauses that catch it.
  fails       the clause meant to catch it (main), and the clauses that re-check the output
              against the reference (REFERENCE);
  incidental  the property holds for the kernel in exact arithmetic, but its own float32
              rounding at its (wrong, faster) frequencies exceeds the allowance the tolerance
              model sizes for the declared convention's frequencies;
  must_pass   clauses whose property holds for the kernel by construction: a frequency or origin
              bug keeps every relative property (linear offset map, offset-only dot products,
              norm), a permuted layout keeps dot products, a dtype bug keeps the values.
"""
from known_bug_table import Bug, row_builder

# A bug in the table's values fails sinusoidal.reference and impl.environment, which re-checks the
# table (built under a bf16 default dtype) against the same reference, and impl.compile, which
# compares the compiled table with it.
REFERENCE = frozenset({"sinusoidal.reference", "impl.environment", "impl.compile"})

# A true sinusoidal table at a wrong frequency, origin or base: every relative property holds.
RELATIVE = ("sinusoidal.linear-offset", "sinusoidal.offset-dot", "sinusoidal.norm", "sinusoidal.bounded",
            "sinusoidal.uniqueness")
# Contract clauses that a value bug does not touch: each row of a table still depends on its own
# position alone, the table is a new tensor, the same positions give the same rows.
CONTRACT = ("impl.no-mutation", "impl.dtype-shape", "impl.determinism", "impl.batch-independence",
            "impl.no-aliasing")

FASTER_ANGLES = ("the offset map is a fixed rotation for this kernel too, but its angles are larger than p * w_i "
                 "and their float32 rounding exceeds the allowance sized for the declared w_i")


bug = row_builder("sinusoidal.reference")


BUGS: dict[str, Bug] = {
    # --- frequency schedule (B-SIN-03, B-SIN-02) ---
    "exponent_doubled": bug("sinusoidal.reference", REFERENCE, must_pass=(*RELATIVE, *CONTRACT)),
    "exponent_halved": bug("sinusoidal.reference", REFERENCE,
                           incidental={"sinusoidal.linear-offset": FASTER_ANGLES + " (w = sqrt(w_i), float32, k ~ 14000)"},
                           must_pass=("sinusoidal.offset-dot", "sinusoidal.norm", "sinusoidal.bounded",
                                      "sinusoidal.uniqueness", *CONTRACT)),
    "exponent_one_based": bug("sinusoidal.reference", REFERENCE,
                              incidental={"sinusoidal.linear-offset": FASTER_ANGLES + " (w_0 = base**(2/d): 316 for "
                                                                      "d = 4, base 1e5)",
                                          "sinusoidal.offset-dot": FASTER_ANGLES + " (the dot products' rounding at "
                                                                   "w_0 = base**(2/d))",
                                          "sinusoidal.uniqueness": "with one pair (d = 2) the kernel's angles p * base "
                                                                   "fall on bf16's coarse grid of the unit circle, "
                                                                   "where positions whose declared encodings are far "
                                                                   "apart collide"},
                              must_pass=("sinusoidal.norm", "sinusoidal.bounded", *CONTRACT)),
    "base_ignored": bug("sinusoidal.reference", REFERENCE, must_pass=(*RELATIVE, *CONTRACT)),
    "t2t_denominator_declared_vaswani": bug("sinusoidal.reference", REFERENCE, must_pass=(*RELATIVE, *CONTRACT)),
    # --- layout and channel order (B-SIN-01, B-SIN-02) ---
    "sin_cos_swapped": bug("sinusoidal.reference", REFERENCE, must_pass=(*RELATIVE, *CONTRACT)),
    "concat_declared_interleaved": bug("sinusoidal.reference", REFERENCE, "sinusoidal.norm", "sinusoidal.linear-offset",
                                       must_pass=("sinusoidal.offset-dot", "sinusoidal.bounded", "sinusoidal.uniqueness",
                                                  *CONTRACT)),
    "t2t_table_declared_vaswani": bug("sinusoidal.reference", REFERENCE, "sinusoidal.norm", "sinusoidal.linear-offset",
                                      must_pass=("sinusoidal.offset-dot", "sinusoidal.bounded", "sinusoidal.uniqueness",
                                                 *CONTRACT)),
    "cos_replaced_by_sin": bug("sinusoidal.norm", REFERENCE, "sinusoidal.linear-offset", "sinusoidal.offset-dot",
                               incidental={"sinusoidal.uniqueness": "sin alone is injective on integer positions in "
                                           "exact arithmetic (w_0 = 1 and pi is irrational); in float16 with few "
                                           "pairs two positions whose sines round alike collide (12348 and 44430 "
                                           "at dim 6), a regime the draws may not reach"},
                               must_pass=("sinusoidal.bounded", *CONTRACT)),
    # --- position origin (B-SIN-04) ---
    "positions_one_based": bug("sinusoidal.reference", REFERENCE, must_pass=(*RELATIVE, *CONTRACT)),
    "fairseq_offset_forgotten": bug("sinusoidal.reference", REFERENCE, must_pass=(*RELATIVE, *CONTRACT)),
    # --- precision (B-PREC-05/06/08/10) ---
    "positions_fp16": bug("sinusoidal.reference", REFERENCE, "sinusoidal.uniqueness", "sinusoidal.linear-offset",
                          "sinusoidal.offset-dot", "sinusoidal.norm", "sinusoidal.bounded", must_pass=CONTRACT),
    "angles_fp16": bug("sinusoidal.reference", REFERENCE, "sinusoidal.uniqueness", "sinusoidal.linear-offset",
                       "sinusoidal.offset-dot", "sinusoidal.norm", "sinusoidal.bounded", must_pass=CONTRACT),
    "default_dtype_arange": bug("impl.environment", must_pass=("sinusoidal.reference", *RELATIVE, *CONTRACT)),
    # --- tables and the implementation contract ---
    "table_clamps": bug("sinusoidal.uniqueness", REFERENCE, "sinusoidal.linear-offset", "sinusoidal.offset-dot",
                        must_pass=("sinusoidal.norm", "sinusoidal.bounded", *CONTRACT)),
    "output_dtype_float32": bug("impl.dtype-shape", must_pass=(*REFERENCE, *RELATIVE, "impl.no-mutation",
                                                               "impl.determinism")),
    "fairseq_positions_in_place": bug(
        "impl.no-mutation", must_pass=(*REFERENCE, *RELATIVE, "impl.dtype-shape", "impl.determinism")),
}
