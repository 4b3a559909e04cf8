"""pe-spec property tests (installed as ``pe_properties``).

Run against an implementation with ``pytest --pyargs pe_properties --pe-impl FILE.py:NAME`` or
``pe-spec check FILE.py:NAME``. Each test cites the clause it checks.
"""
