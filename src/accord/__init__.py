"""Accord: a joint coordination and deconfliction center.

The core is pure: :mod:`accord.agreement`, :mod:`accord.world`, :mod:`accord.geo`,
:mod:`accord.deconfliction`, :mod:`accord.airspace`, :mod:`accord.rules` and
:mod:`accord.record`, with the leaf modules they share (:mod:`accord.errors`,
:mod:`accord.units`, :mod:`accord.chrono`, :mod:`accord.jsontext`). It reads no clock and no
environment, and touches a file only where its caller hands it the path (the ``load_*``
readers, the record's log and key files). The edges sit around it: the service in
:mod:`accord.center`, with the page it serves (``accord/web``), and the command line in
:mod:`accord.cli`. The core never imports an edge: the import contracts in pyproject.toml
(``[tool.importlinter]``) hold it to that.
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
