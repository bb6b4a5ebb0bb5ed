"""Accord: a joint coordination and deconfliction center.

The pure core (agreement, declared world, deconfliction engine, rules) has no I/O, no clock
and no environment; the command line in :mod:`accord.cli` is a thin edge around it.
"""

from __future__ import annotations

from accord.agreement import Agreement, ObjectKind, RuleKind, load_agreement, phase_at
from accord.errors import (
    AccordError,
    AgreementError,
    BlockingConflict,
    DeadlineError,
    IllegalTransition,
    InputError,
    NotAuthorized,
    PhaseError,
    RuleError,
    WorldError,
)

__all__ = [
    "AccordError",
    "Agreement",
    "AgreementError",
    "BlockingConflict",
    "DeadlineError",
    "IllegalTransition",
    "InputError",
    "NotAuthorized",
    "ObjectKind",
    "PhaseError",
    "RuleError",
    "RuleKind",
    "WorldError",
    "__version__",
    "load_agreement",
    "phase_at",
]

__version__ = "0.1.0"
