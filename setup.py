"""Package discovery (the metadata is in pyproject.toml): every package under pe_spec/, and the
property tests of properties/ installed as pe_properties, subpackages included, so adding a
family's packages needs no edit here."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["pe_spec", "pe_spec.*"])
    + ["pe_properties"] + [f"pe_properties.{p}" for p in find_packages("properties")],
    package_dir={"pe_properties": "properties"},
)
