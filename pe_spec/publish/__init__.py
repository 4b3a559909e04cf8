"""Publishing: the generated docs (one module per page), the conformance table, the property
matrix and the known-bug matrix. Reads the specification and reports; nothing reads it."""
