"""Rotary position embeddings: conventions, float64 reference, contract, clauses, examples.

``from pe_spec import rope`` gives this package: ``rope.implementation``, ``rope.Config``,
``rope.Unsupported``; ``FAMILY`` is its record in the registry (pe_spec.spec.registry).
"""
from pe_spec.families.rope import clauses as _clauses  # noqa: F401  (registers the rope.* clauses)
from pe_spec.families.rope.contract import DECLARATIONS, SCALINGS, SIGNATURE, Config, Implementation, implementation
from pe_spec.spec.contract import Unsupported
from pe_spec.spec.family import Family

__all__ = ["Config", "implementation", "Implementation", "Unsupported", "SCALINGS", "FAMILY"]

FAMILY = Family(
    name="rope",
    title="RoPE: rotary position embeddings",
    summary="rotary position embeddings (RoFormer): each pair of channels of q and k turned by p * w_i",
    package=__name__,
    config=Config,
    implementation=implementation,
    declarations=DECLARATIONS,
    required="layout",
    signature=SIGNATURE,
    reference="pe_spec.families.rope.reference",
    symbolic="pe_spec.families.rope.symbolic",
    examples="pe_spec.families.rope.examples",
    properties="pe_properties.rope",
    publish="pe_spec.publish.families.rope",
    universal={
        "impl.no-mutation": "x and positions hold exactly the values they held before the call.",
        "impl.dtype-shape": "the output has the shape, dtype and device of x.",
        "impl.batch-independence": ("the rows are the (batch, head) rows of x, which share the positions: "
                                    "permuting them permutes the output, and the last one rotated alone equals "
                                    "its row in the batch."),
        "impl.stride-invariance": ("x as a transposed view ([..., seq, heads, dim] storage), every other row of a "
                                   "longer buffer, or the k slice of a packed qkv projection gives the result "
                                   "for its contiguous copy."),
        "impl.environment": ("fp32 inputs under an ambient bf16 autocast, and every dtype with the kernel built "
                             "under a bf16 default dtype."),
        "impl.no-aliasing": ("the output shares no memory with x or positions, also at positions all 0 (the "
                             "rotation is the identity, where a shortcut might return x itself)."),
        "device.counterpart": ("the kernel and the eager path it declares as counterpart rotate the same x by "
                               "the same positions within the arithmetic allowance, and pass the channels beyond "
                               "rotary_dim through identically."),
    },
)
