"""Fixtures shared by the unit tests (their helpers live in ``tests/support``)."""

from __future__ import annotations

import pytest

from accord.agreement import Agreement, load_agreement
from accord.examples import example_path


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    """The example agreement (``jig.yaml``), loaded once per module."""
    return load_agreement(example_path("jig.yaml"))


@pytest.fixture(scope="module")
def jig(agreement: Agreement) -> Agreement:
    """The example agreement, under the name the agreement's own tests give it."""
    return agreement
