"""The kinds of record entry the center writes: each declared once, by the feature that
writes it, and registered here by name.

An entry's event is a JSON object whose ``kind`` names its :class:`EntryKind`: the fields it
must carry and may carry, who signs it (a member, for its own act, or the center, for its
own), and whether the picture's replay folds it (:class:`accord.center.picture.replay.Replay`;
the others — airspace alerts, users, probing — are recorded for proof and read by their
features). Writers build events with :meth:`EntryKind.build`, which refuses a missing or
unknown field, so what a writer puts in the record cannot drift from what readers expect;
readers dispatch on :func:`kind_named` and treat an entry of an unregistered kind, or of a
registered kind with the wrong fields, as an explicit anomaly.

A feature declares its kinds at import, beside the code that writes them::

    CONFIRMED = entry_kind(
        "condition.confirmed", signer=Signer.MEMBER, required=("condition", "user"),
        folded=True, summary="a member confirms one of the agreement's conditions",
    )

:func:`registered` imports every feature module that declares kinds (:data:`FEATURES`),
so the registry is whole whoever asks first.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "FEATURES",
    "EntryKind",
    "Recorded",
    "Signer",
    "entry_kind",
    "kind_named",
    "registered",
]

FEATURES = (
    "accord.center.declarations.entries",
    "accord.center.operations.entries",
    "accord.center.directline.messages",
    "accord.center.directline.escalation",
    "accord.center.phases.service",
    "accord.center.airspace.entries",
    "accord.center.disclosure.probing",
    "accord.center.users.service",
)
"""The modules that declare entry kinds (a new feature that records adds itself here)."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One verified entry of the record: its index, author, signed time and event (as
    :mod:`accord.center.picture.verified` reads and checks it)."""

    index: int
    author: str
    at: datetime
    event: Mapping[str, Any]


class Signer(StrEnum):
    """Who signs an entry of a kind."""

    MEMBER = "member"
    """The member whose act it is (a party, a notifier)."""
    CENTER = "center"
    """The center, for its own acts (alerts, escalations, checks, users): never a party's."""


@dataclass(frozen=True, slots=True)
class EntryKind:
    """One kind of record entry (see the module docstring)."""

    name: str
    signer: Signer
    required: frozenset[str]
    optional: frozenset[str]
    folded: bool
    """Whether the picture's replay folds entries of this kind."""
    summary: str

    def problems(self, event: Mapping[str, Any]) -> list[str]:
        """What is wrong with ``event`` as an entry of this kind (nothing: ``[]``).

        >>> k = EntryKind("x.y", Signer.MEMBER, frozenset({"id"}), frozenset({"note"}),
        ...               True, "an example")
        >>> k.problems({"kind": "x.y", "id": 1}), k.problems({"kind": "x.y", "other": 2})
        ([], ["missing field 'id'", "unknown field 'other'"])
        """
        out: list[str] = []
        if event.get("kind") != self.name:
            out.append(f"kind {event.get('kind')!r} is not {self.name!r}")
        keys = set(event) - {"kind"}
        out += [f"missing field {name!r}" for name in sorted(self.required - keys)]
        out += [f"unknown field {name!r}" for name in sorted(keys - self.required - self.optional)]
        return out

    def build(self, fields: Mapping[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
        """The event of an entry of this kind: ``{"kind": name, **fields, **more}``.

        Raises :class:`ValueError` naming the kind and the field when a required field is
        missing or an unknown one given (a bug of the writer, never the user's input).
        """
        event = {"kind": self.name, **(fields or {}), **more}
        self.check(event)
        return event

    def check(self, event: Mapping[str, Any]) -> None:
        """Return if ``event`` is an entry of this kind, else raise :class:`ValueError`
        naming the kind and the fields (for a writer that encodes its event itself)."""
        wrong = self.problems(event)
        if wrong:
            raise ValueError(f"a {self.name} entry: {'; '.join(wrong)}")


_KINDS: dict[str, EntryKind] = {}


def entry_kind(
    name: str,
    *,
    signer: Signer,
    required: Iterable[str],
    optional: Iterable[str] = (),
    folded: bool,
    summary: str,
) -> EntryKind:
    """Declare and register the kind ``name`` (once: a second declaration is a bug)."""
    kind = EntryKind(name, signer, frozenset(required), frozenset(optional), folded, summary)
    if name in _KINDS and _KINDS[name] != kind:
        raise ValueError(f"entry kind {name!r} declared twice, differently")
    _KINDS[name] = kind
    return kind


def registered() -> Mapping[str, EntryKind]:
    """Every registered kind, by name (the feature modules imported first)."""
    for module in FEATURES:
        importlib.import_module(module)
    return dict(_KINDS)


def kind_named(name: str) -> EntryKind | None:
    """The registered kind ``name``, or ``None`` (an unknown kind: an anomaly to report)."""
    if name not in _KINDS:
        registered()
    return _KINDS.get(name)
