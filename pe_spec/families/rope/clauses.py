"""The RoPE clauses (spec 2026.1). Property tests in properties/test_rope.py cite these IDs."""
from pe_spec.spec.clauses import Clause, register

_ROFORMER = "Su et al. 2021, RoFormer, arXiv:2104.09864"
_SYM = "pe_spec.families.rope.symbolic."

register(
    Clause(
        id="rope.reference",
        title="Agreement with the float64 reference",
        level="MUST", since="2026.1",
        statement=("For every rotated pair i, ||y_i - ref_i|| is within the tolerance model's allowance "
                   "for the output dtype, the position and the pair's frequency."),
        math=("ref_i = R(p * w_i) x_i with w_i = base^(-2i/rotary_dim), R(t) = [[cos t, -sin t], [sin t, cos t]]; "
              "||y_i - ref_i|| <= ||x_i|| (min(dphi_i(p), 2) + A) + F  (pe_spec.tolerance)"),
        rationale=("The reference evaluates w_i in 50-digit arithmetic and p * w_i as an exact double-double "
                   "reduced mod 2pi, so its own error is below float64 rounding for |p| < 2^31 "
                   "(tests/test_rope_reference.py checks it against mpmath). The frequencies form the "
                   "geometric series w_0 = 1, w_{i+1}/w_i = base^(-2/d) (derivation below)."),
        guards_against=("inverse frequencies or angles in bf16/fp16 (gpt-neox #1003, transformers #25681, #29496, "
                        "sglang-jax #1472); positions cast to half precision (Megatron-LM #535); the i/d exponent "
                        "(DongjunLee/transformer-tensorflow #6); wrong layout; sin sign flipped; cos/sin swapped."),
        references=(_ROFORMER + " eq. 14-15, 34", "formulas.md sec. 2"),
        derivation=_SYM + "frequency_schedule",
    ),
    Clause(
        id="rope.relative-shift",
        title="Scores depend on the relative offset only",
        level="MUST", since="2026.1",
        statement="<rope(q, m), rope(k, n)> equals <rope(q, m + c), rope(k, n + c)> for every shift c, within the tolerance model.",
        math="R(a)^T R(b) = R(b - a)  =>  <R(m w) q, R(n w) k> = q^T R((n - m) w) k",
        rationale="Each 2x2 block is a rotation; rotations compose additively, so the score is a function of n - m.",
        guards_against=("pairing cos/sin with the wrong channels (how-to-train-your-gpt #6, gpt-neox #834), "
                        "cos/sin duplicated for one layout and rotate_half for the other, rows reading the wrong position."),
        references=(_ROFORMER + " eq. 11, 16",),
        derivation=_SYM + "relative_score",
    ),
    Clause(
        id="rope.norm",
        title="Each rotated pair keeps its norm",
        level="MUST", since="2026.1",
        statement="For every rotated pair, | ||y_i|| - ||x_i|| | is within the amplitude part of the tolerance model.",
        math="R(a)^T R(a) = I  =>  ||R(a) x_i|| = ||x_i||",
        rationale="A rotation is orthogonal; only rounding of cos/sin and of the products may change the norm.",
        guards_against="cos/sin scaled or cast twice, a stray attention factor, cos used for both entries, cos(cos t) (Megatron-LM #7465).",
        references=(_ROFORMER + " sec. 3.2",),
        derivation=_SYM + "norm_preservation",
    ),
    Clause(
        id="rope.zero",
        title="Position 0 is the identity",
        level="MUST", since="2026.1",
        statement="rope(x, 0) equals x within the amplitude part of the tolerance model.",
        math="R(0) = I",
        rationale="cos 0 = 1 and sin 0 = 0 exactly.",
        guards_against="off-by-one positions (positions starting at 1), cos/sin swapped, rotating by the value instead of the angle (Megatron-LM #7465).",
        references=(_ROFORMER + " eq. 13",),
        derivation=_SYM + "zero_identity",
    ),
    Clause(
        id="rope.composition",
        title="Rotations compose additively",
        level="MUST", since="2026.1",
        statement="rope(rope(x, a), b) equals rope(x, a + b) within the sum of the three applications' allowances.",
        math="R(a) R(b) = R(a + b)",
        rationale="Angle addition: the product of two block rotations is the rotation by the summed angles.",
        guards_against="KV-cache context shifts that re-rotate with a different convention (llama.cpp K-shift), non-linear angle maps.",
        references=(_ROFORMER + " eq. 16", "known-bugs.md P4"),
        derivation=_SYM + "composition",
    ),
    Clause(
        id="rope.pass-through",
        title="Channels beyond rotary_dim pass through unchanged",
        level="MUST", since="2026.1",
        statement="Channels rotary_dim..head_dim-1 of the output are bit-identical to the input's.",
        math="y[..., rotary_dim:] == x[..., rotary_dim:]",
        rationale="Partial rotary (GPT-NeoX rotary_pct, GPT-J rotary_dim, Phi partial_rotary_factor) rotates a prefix only.",
        guards_against="rotating the wrong slice, frequencies over head_dim instead of rotary_dim, the tail zeroed or rounded.",
        references=("formulas.md sec. 2c",),
    ),
    Clause(
        id="rope.linearity",
        title="Linear in x",
        level="MUST", since="2026.1",
        statement="rope(a x1 + b x2, p) equals a rope(x1, p) + b rope(x2, p) within the tolerance model.",
        math="R(p)(a x1 + b x2) = a R(p) x1 + b R(p) x2",
        rationale="RoPE is multiplication by a position-dependent matrix.",
        guards_against="biases, normalisation or clamping mixed into the rotation; data-dependent scaling.",
        references=(_ROFORMER + " eq. 14",),
    ),
    Clause(
        id="rope.gradient",
        title="The gradient is the inverse rotation",
        level="MUST", since="2026.1",
        statement=("Where the kernel supports autograd, d<g, rope(x, p)>/dx equals R(p)^T g = R(-p) g "
                   "within the tolerance model."),
        math="d/dx <g, R(p) x> = R(p)^T g = R(-p) g",
        rationale="R(p) is orthogonal, so its transpose is its inverse, the rotation by -p.",
        guards_against="custom backward kernels that rotate by +p, use the wrong layout, or mis-handle the pass-through part.",
        references=("known-bugs.md P16",),
        derivation=_SYM + "inverse_rotation",
    ),
    Clause(
        id="rope.positions",
        title="Positions are honoured",
        level="MUST", since="2026.1",
        statement=("Each row is rotated by its own position, whatever the positions are (unsorted, repeated, "
                   "large): a KV-cache suffix, a single decode step or a permutation of the rows gives the rows "
                   "it holds in the full call, within twice the tolerance model."),
        math="rope(x[..., S, :], p[S]) == rope(x, p)[..., S, :] for S = k.., {last}, a permutation",
        rationale="RoPE is applied row by row; the reference has no notion of sequence index.",
        guards_against=("arange(seq) used instead of the positions, decode steps that ignore the cache offset, "
                        "cos/sin read from row 0 only, positions sorted or deduplicated."),
        references=("known-bugs.md P10, P11",),
    ),
    Clause(
        id="rope.cache-coverage",
        title="Every served position is correct; beyond either end of the cache it is correct or raises",
        level="MUST", since="2026.1",
        statement=("Positions up to max_position - 1 agree with the reference; a position >= max_position or < 0 "
                   "(RoPE is defined for every integer: negative deltas re-rotate keys in sink and streaming caches, "
                   "-1 pads) is either computed correctly or raises an error, never wrapped or clamped silently."),
        math="0 <= p < max_position => rope.reference holds; p >= max_position or p < 0 => correct or exception",
        rationale=("A cos/sin table indexed past its end, or with a negative id (Python-style negative indexing), "
                   "returns some other position's rotation."),
        guards_against=("tables built for max_seq_len and indexed modulo or clamped (known-bugs.md P14), and "
                        "gathered with negative ids that wrap to the table's far end."),
        references=("known-bugs.md P14",),
    ),
    family="rope",
)
