"""The specification: what positional encodings are and what a kernel of each must satisfy.

Clause registry, family records and their registry, the universal clauses, the normative
tolerance model, exact arithmetic, the symbolic prover and dtype facts. It imports nothing from
the harness (``pe_spec.harness``) or publishing (``pe_spec.publish``); the families themselves
are packages under ``pe_spec.families``.
"""
