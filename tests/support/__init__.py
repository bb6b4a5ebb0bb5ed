"""Test support: independent oracles and generators (importable as ``support``)."""
