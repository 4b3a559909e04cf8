"""`python -m pe_spec.publish.docs [--check]`."""
import sys

from pe_spec.publish.docs import main

sys.exit(main())
