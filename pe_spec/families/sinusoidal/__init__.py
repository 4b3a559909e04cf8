"""Sinusoidal absolute position encodings: named conventions, float64 reference, contract, clauses.

``from pe_spec import sinusoidal`` gives this package: ``sinusoidal.implementation``,
``sinusoidal.Config``, ``sinusoidal.Unsupported``; ``FAMILY`` is its record in the registry.
"""
from pe_spec.families.sinusoidal import clauses as _clauses  # noqa: F401  (registers the sinusoidal.* clauses)
from pe_spec.families.sinusoidal.contract import DECLARATIONS, SIGNATURE, Config, Implementation, implementation
from pe_spec.spec.contract import Unsupported
from pe_spec.spec.family import Family

__all__ = ["Config", "implementation", "Implementation", "Unsupported", "FAMILY"]

FAMILY = Family(
    name="sinusoidal",
    title="Sinusoidal position encodings",
    summary="absolute sinusoidal tables (Vaswani et al. 2017 and its variants): one row of sines and cosines per position",
    package=__name__,
    config=Config,
    implementation=implementation,
    declarations=DECLARATIONS,
    required="convention",
    signature=SIGNATURE,
    reference="pe_spec.families.sinusoidal.reference",
    symbolic="pe_spec.families.sinusoidal.symbolic",
    examples="pe_spec.families.sinusoidal.examples",
    properties="pe_properties.sinusoidal",
    publish="pe_spec.publish.families.sinusoidal",
    universal={
        "impl.no-mutation": "the positions tensor holds exactly the values it held before the call.",
        "impl.dtype-shape": "the output is [len(positions), dim] in the Config's dtype on the Config's device.",
        "impl.batch-independence": ("the rows are the positions: each row of the table depends only on its own "
                                    "position, so permuting the positions permutes the rows, and the last "
                                    "position asked for alone gives its row."),
        "impl.environment": ("the table built under a bf16 default dtype (a table has no input tensor whose dtype "
                             "an autocast region would choose)."),
        "impl.no-aliasing": ("the table shares no memory with positions, nor with a table the implementation "
                             "keeps: writing into the returned rows leaves what the next call returns unchanged "
                             "(a kernel returning a view of its cached table fails)."),
    },
    not_applicable={
        "impl.stride-invariance": "a table has no input tensor whose strides could vary: positions are its only input",
        "device.counterpart": ("a table rotates no input by a shared cos/sin, so there is no eager counterpart "
                               "to agree with to the arithmetic allowance; agreement with the reference is "
                               "sinusoidal.reference"),
    },
    regimes_not_applicable={
        "many-heads": "a table has no heads: one row per position",
        "batched-decode": "a table has no batch or heads: one row per position",
        "large-storage": "a table has no input tensor of values whose storage could be large: positions are its only input",
        "strided-last": "a table has no input tensor whose strides could vary",
        "expanded": "a table has no input tensor whose strides could vary",
        "magnitude-huge": "a table has no input values: its entries are sines and cosines, in [-1, 1]",
        "magnitude-tiny": "a table has no input values: its entries are sines and cosines, in [-1, 1]",
        "negative-positions": ("an absolute table is indexed by token index from 0 (its conventions, and "
                               "the fairseq padding offset, are defined for positions >= 0): there is no "
                               "negative delta to serve"),
    },
)
