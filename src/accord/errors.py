"""Every error Accord raises on purpose, in one tree.

::

    AccordError                      anything Accord refuses, with a message fit for a person
    ├── InputError                   bad input; names the source, line, feature id and field
    │   ├── AgreementError           the agreement file
    │   ├── WorldError               the declared world (GeoJSON)
    │   └── TrackError               live track reports (CSV, GeoJSON, a batch)
    ├── RecordError                  the verifiable record refuses (see accord.record.errors)
    └── RuleError                    a request the agreement's rules refuse
        ├── NotAuthorized            the actor may not do this (non-party, non-executor, …)
        ├── IllegalTransition        the object's state does not allow this step
        ├── PhaseError               the agreement's current phase does not allow this
        ├── DeadlineError            too early or too late (notice period, window, objection window)
        └── BlockingConflict         blocking conflicts stand and no override reason was given

A caller at the edge (the command line, later the service) catches ``AccordError`` and shows
``str(error)``; anything else escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AccordError",
    "AgreementError",
    "BlockingConflict",
    "DeadlineError",
    "IllegalTransition",
    "InputError",
    "Issue",
    "NotAuthorized",
    "PhaseError",
    "RuleError",
    "TrackError",
    "WorldError",
    "field_path",
]


def field_path(parts: Sequence[str | int]) -> str:
    """A field's path as errors name it: ``phases[1].starts.after``.

    >>> field_path(["designated_areas", 0, "polygon", 3])
    'designated_areas[0].polygon[3]'
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class AccordError(Exception):
    """Base of every error Accord raises on purpose."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in an input: where it is and what is wrong.

    ``field`` is a dotted path (``categories.coordinated.max_executors``,
    ``properties.window_end``); ``feature`` the feature id where there is one; ``line`` the
    1-based line in the source file where it is known.
    """

    field: str
    message: str
    feature: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.feature is not None:
            where.append(f"feature {self.feature!r}")
        where.append(f"field {self.field!r}" if self.field else "document")
        return f"{', '.join(where)}: {self.message}"


class InputError(AccordError):
    """Bad input: one or more :class:`Issue`, each naming where it is."""

    def __init__(self, source: str, issues: list[Issue] | tuple[Issue, ...]) -> None:
        self.source = source
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.source}: {len(self.issues)} problem{'s' if len(self.issues) != 1 else ''}"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])


class AgreementError(InputError):
    """The agreement file is not a valid agreement."""


class WorldError(InputError):
    """The declared world is not valid against its agreement."""


class TrackError(InputError):
    """Live track reports are not valid (a bad field, an impossible state)."""


class RuleError(AccordError):
    """The agreement's rules refuse this request."""


class NotAuthorized(RuleError):
    """The actor has no right to take this step."""


class IllegalTransition(RuleError):
    """The object's current state does not allow this step."""


class PhaseError(RuleError):
    """The agreement's phase in force does not allow this step."""


class DeadlineError(RuleError):
    """The step comes too early or too late for a time limit of the agreement."""


class BlockingConflict(RuleError):
    """Blocking conflicts stand and no approver gave a written override reason."""
