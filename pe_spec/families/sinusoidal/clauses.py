"""The sinusoidal clauses (spec 2026.1). Property tests in properties/test_sinusoidal.py cite these IDs."""
from pe_spec.spec.clauses import Clause, register

_VASWANI = "Vaswani et al. 2017, Attention Is All You Need, sec. 3.5"
_SYM = "pe_spec.families.sinusoidal.symbolic."

register(
    Clause(
        id="sinusoidal.reference", title="Agreement with the float64 reference of the declared convention",
        level="MUST", since="2026.1",
        statement=("For every (sin, cos) pair k, the distance between the produced pair and the reference's is within "
                   "the tolerance model's allowance for a unit pair; a padded column is exactly zero."),
        math=("ref_k(p) = (sin(q w_k), cos(q w_k)), q = p + offset, w_k per the convention; "
              "||y_k - ref_k|| <= min(dphi_k(q), 2) + A + F"),
        rationale=("The sinusoid of pair k is RoPE's rotation applied to a unit vector, so the same per-pair error "
                   "model applies; the reference forms q * w_k exactly (pe_spec.exact)."),
        guards_against=("the exponent doubled or halved (i read as a dimension index, DongjunLee/transformer-tensorflow #6), "
                        "sin and cos swapped, positions starting at 1, tensor2tensor frequencies declared as Vaswani "
                        "(tensorflow/tensor2tensor #177), concat declared as interleaved (allenai/allennlp #2993), "
                        "angles in fp16 at long sequence lengths."),
        references=(_VASWANI, "formulas.md sec. 1"),
        derivation=_SYM + "wavelength_progression",
    ),
    Clause(
        id="sinusoidal.bounded", title="Every value lies in [-1, 1]", level="MUST", since="2026.1",
        statement="Every entry of the encoding is finite and in [-1, 1].",
        math="|PE(p)_j| <= 1",
        rationale="Entries are sines and cosines; rounding to any float format keeps them within [-1, 1].",
        guards_against="integer or unnormalised position features leaking in, overflow to inf/NaN in half precision.",
        references=(_VASWANI,),
    ),
    Clause(
        id="sinusoidal.linear-offset", title="PE(p + k) is a fixed linear map of PE(p)",
        level="MUST", since="2026.1",
        statement=("For a fixed offset k, the rotation taking each pair of PE(p) to the same pair of PE(p + k) is the "
                   "same for every p, within the tolerance model."),
        math="PE(p + k) = M(k) PE(p), M(k) = blockdiag([[cos k w_i, sin k w_i], [-sin k w_i, cos k w_i]]) independent of p",
        rationale="Angle addition: sin((p+k)w) and cos((p+k)w) are linear in sin(pw) and cos(pw) with coefficients depending on k only.",
        guards_against="positions rounded to a coarse grid (fp16 positions past 2048), non-linear angle maps, per-position jitter.",
        references=(_VASWANI + " ('PE_pos+k can be represented as a linear function of PE_pos')",),
        derivation=_SYM + "linear_offset",
    ),
    Clause(
        id="sinusoidal.offset-dot", title="Dot products depend on the offset only",
        level="MUST", since="2026.1",
        statement="<PE(p), PE(p + k)> is the same for every p, within the tolerance model.",
        math="<PE(p), PE(p + k)> = sum_i cos(k w_i)  (even in k)",
        rationale="sin(a) sin(b) + cos(a) cos(b) = cos(a - b) for every pair.",
        guards_against="sin/cos of different frequencies paired together, layouts mixing pairs.",
        references=(_VASWANI,),
        derivation=_SYM + "offset_dot_product",
    ),
    Clause(
        id="sinusoidal.norm", title="Constant norm", level="MUST", since="2026.1",
        statement="Each (sin, cos) pair has norm 1, so ||PE(p)||^2 = number of pairs, within the amplitude part of the tolerance model.",
        math="sin^2(q w_k) + cos^2(q w_k) = 1  =>  ||PE(p)||^2 = floor(d/2)",
        rationale="Pythagoras, pair by pair.",
        guards_against="sin used twice, scaled tables, cos(cos(.)) style value/angle confusion.",
        derivation=_SYM + "constant_norm",
    ),
    Clause(
        id="sinusoidal.uniqueness", title="Every served position has its own encoding",
        level="MUST", since="2026.1",
        statement=("Every position below max_position maps to an encoding that differs, in the output dtype, from "
                   "every other position's: the uniqueness horizon of the implementation covers max_position."),
        math="p != p' < max_position  =>  PE(p) != PE(p') bitwise",
        rationale=("Injectivity over the integers is not provable symbolically for every dtype; it is checked "
                   "numerically over the whole served range (docs: uniqueness horizon per dtype)."),
        guards_against="positions collapsing in half precision (Megatron-LM #535, diffusers #13922), tables that repeat.",
        references=("known-bugs.md B-PREC-06, B-PREC-10",),
    ),
    family="sinusoidal",
)
