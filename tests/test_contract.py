"""The plug-in contract: declarations are validated, configurations are validated, builds are
cached, and Unsupported configurations are skipped rather than failed."""
from __future__ import annotations

import textwrap

import pytest

from conftest import check_report, statuses
from pe_spec import rope
from pe_spec.harness.report import regimes_line
from pe_spec.spec.contract import ContractError
from pe_spec.families.rope.contract import rotary_dims_for


def _factory(cfg):
    return lambda x, positions: x


@pytest.mark.parametrize("declaration, message", [
    ({}, "needs layout"),
    ({"layout": "neox"}, "unknown rotary layout 'neox'"),
    ({"layout": "half", "dtypes": ("float8",)}, "unknown dtype 'float8'"),
    ({"layout": "half", "colour": "red"}, "unknown declaration"),
    ({"layout": "half", "rotary_dims": (1.5,)}, "rotary fraction must be in (0, 1]"),
    ({"layout": "half", "max_position": 0}, "max_position must be a positive int"),
    ({"layout": "half", "max_seq_len": 2.5}, "max_seq_len must be a positive int"),
    ({"layout": "half", "max_seq_len": 64}, "max_seq_len must be at least 512"),
    ({"layout": "half", "scalings": ("yarn",)}, "unknown scaling 'yarn'"),
])
def test_bad_declarations_are_rejected(declaration, message):
    with pytest.raises(ContractError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rope.implementation(**declaration)(_factory)


@pytest.mark.parametrize("kwargs, message", [
    ({"head_dim": 64, "rotary_dim": 65}, "positive even"),
    ({"head_dim": 64, "rotary_dim": 128}, "exceeds head_dim"),
    ({"head_dim": 64, "rotary_dim": 64, "base": 1.0}, "base must be > 1"),
    ({"head_dim": 64, "rotary_dim": 64, "max_position": 0}, "max_position must be >= 1"),
])
def test_bad_configs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rope.Config(**kwargs)


def test_rotary_dims_fractions_and_ints():
    impl = rope.implementation(layout="half", rotary_dims=(0.25, "full", 6))(_factory)
    assert rotary_dims_for(impl, 64) == [6, 16, 64]
    assert rotary_dims_for(impl, 4) == [4]          # 0.25 * 4 = 1 is odd: not a valid rotary dim
    # Fractions truncate, as transformers (int(head_dim * partial_rotary_factor)) and GPT-NeoX do:
    # phi-2's 0.4 of 62 is 24 there (rounding would give 25, odd, and no partial dim at all).
    phi2 = rope.implementation(layout="half", rotary_dims=(0.4,))(_factory)
    assert rotary_dims_for(phi2, 62) == [24]
    assert rotary_dims_for(phi2, 64) == []          # int(25.6) = 25 is odd
    everything = rope.implementation(layout="half")(_factory)
    assert rotary_dims_for(everything, 8) == [2, 4, 6, 8]


def test_build_is_cached_per_config_and_checks_callable():
    calls = []

    @rope.implementation(layout="half")
    def counting(cfg):
        calls.append(cfg)
        return lambda x, p: x

    cfg = rope.Config(8, 8)
    assert counting.build(cfg) is counting.build(cfg)
    assert len(calls) == 1

    @rope.implementation(layout="half")
    def not_callable(cfg):
        return 42

    with pytest.raises(ContractError, match="must return a callable"):
        not_callable.build(cfg)
    with pytest.raises(ContractError, match="applied twice"):
        rope.implementation(layout="half")(counting)


UNSUPPORTED_SOME = textwrap.dedent('''
    from pe_spec import rope
    from pe_spec.families.rope.examples import rope_interleaved_pairs

    @rope.implementation(layout="interleaved", dtypes=("float32",))
    def kernel(cfg):
        if cfg.head_dim % 64:
            raise rope.Unsupported("only head dims that are multiples of 64")
        return rope_interleaved_pairs.factory(cfg)
''')

UNSUPPORTED_ALL = textwrap.dedent('''
    from pe_spec import rope

    @rope.implementation(layout="half", dtypes=("float32",))
    def kernel(cfg):
        raise rope.Unsupported("nothing is supported")
''')


def test_unsupported_configs_are_skipped_not_failed(tmp_path):
    path = tmp_path / "some.py"
    path.write_text(UNSUPPORTED_SOME)
    proc, report = check_report(f"{path}:kernel", tmp_path, "--clause", "rope.reference", "--clause", "rope.norm")
    assert proc.returncode == 0, proc.stdout
    assert statuses(report) == {"rope.reference": "pass", "rope.norm": "pass"}
    tests = [t for c in report["clauses"] for t in c["tests"] if t["status"] == "pass"]
    assert all(t["unsupported_configs"] > 0 for t in tests), "unsupported configs should be counted"


def test_a_factory_that_supports_nothing_is_not_conformant(tmp_path):
    path = tmp_path / "none.py"
    path.write_text(UNSUPPORTED_ALL)
    proc, report = check_report(f"{path}:kernel", tmp_path, "--clause", "rope.reference")
    assert proc.returncode == 1
    assert statuses(report) == {"rope.reference": "error"}
    assert report["verdict"] == "nonconformant"


SEQUENCE_CAPPED = textwrap.dedent('''
    from pe_spec import rope
    from pe_spec.examples import rope_half_cached

    @rope.implementation(layout="half", max_position=2**17, max_seq_len=512, name="capped")
    def kernel(cfg):
        fn = rope_half_cached.factory(cfg)
        def apply(x, positions):
            assert x.shape[-2] <= 512, f"a sequence of {x.shape[-2]} tokens past the declared max_seq_len"
            return fn(x, positions)
        return apply
''')


def test_max_seq_len_bounds_every_sequence_and_the_report_names_it(tmp_path):
    """A kernel declaring max_seq_len (a kernel under an interpreter) is never called with a longer
    sequence, and the long-sequence regime is reported as not reached, by that declaration."""
    path = tmp_path / "capped.py"
    path.write_text(SEQUENCE_CAPPED)
    proc, report = check_report(f"{path}:kernel", tmp_path, "--clause", "rope.reference", "--clause", "rope.norm")
    assert proc.returncode == 0, proc.stdout
    (long,) = [r for r in report["regimes"] if r["name"] == "long-sequence"]
    assert long["status"] == "not reached" and long["reason"] == "excluded by the declaration max_seq_len=512", long
    assert "not reached: long-sequence (excluded by the declaration max_seq_len=512)" in regimes_line(report)


def test_the_least_max_seq_len_covers_every_draw_but_long_sequences():
    """MIN_MAX_SEQ_LEN holds impl.environment's prefill; the long-sequence regime starts above it."""
    from pe_properties.ambient import ENVIRONMENT_PREFILL

    from pe_spec.spec import regimes
    from pe_spec.spec.contract import MIN_MAX_SEQ_LEN

    assert MIN_MAX_SEQ_LEN == ENVIRONMENT_PREFILL < min(regimes.LONG_SEQUENCES)


def test_a_declaration_is_blamed_only_where_it_excludes_the_regime():
    from pe_spec.spec import regimes

    long = regimes.get("long-sequence")
    assert long.excluded_by({"max_seq_len": 512}) == "excluded by the declaration max_seq_len=512"
    assert long.excluded_by({"max_seq_len": min(regimes.LONG_SEQUENCES)}) == ""   # the regime still fits
    assert long.excluded_by({}) == "" and regimes.get("float64").excluded_by({"max_seq_len": 512}) == ""
