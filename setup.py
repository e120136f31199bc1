"""Packaging for Motor: the metadata is in pyproject.toml (PEP 621).

Kept for tools that still run ``setup.py``; setuptools reads the name,
version, dependencies, extras and package data from pyproject.toml.
"""

from setuptools import setup

setup()
