"""The example agreement (``jig.yaml``) the tests run under: loaded, as text, and the instant
the service's tests run at."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from accord.agreement import load_agreement
from accord.examples import example_path

AGREEMENT = load_agreement(example_path("jig.yaml"))
# Day 9 of the truce: past the seven days, so confirming the aid condition starts the center.
NOW = AGREEMENT.starts_at + timedelta(days=9)

AGREEMENT_TEXT = (
    Path(__file__)
    .resolve()
    .parents[2]
    .joinpath("src", "accord", "examples", "jig.yaml")
    .read_text(encoding="utf-8")
)
assert AGREEMENT.id in AGREEMENT_TEXT
