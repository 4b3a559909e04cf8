"""`python -m pe_spec ...` is the `pe-spec` command."""
import sys

from pe_spec.harness.cli import main

sys.exit(main())
