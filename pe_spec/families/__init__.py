"""One package per encoding family: contract, float64 reference, sympy derivations, clauses,
bundled correct kernels, and the FAMILY record (pe_spec.spec.family) that ties them together."""
