"""Test support (importable as ``support``): the helpers that several test modules share,
each defined once and imported from here — never from a test module or a conftest (see
``tests/unit/test_test_layout.py``) — and independent oracles and generators."""
