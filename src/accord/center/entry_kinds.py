"""The kinds of record entry the center writes: each declared once, by the feature that
writes it, and registered here by name.

An entry's event is a JSON object whose ``kind`` names its :class:`EntryKind`: the fields it
must carry and may carry, who signs it (a member, for its own act, or the center, for its
own), and its :data:`Fold`, how the picture's replay
(:class:`accord.center.picture.replay.Replay`) folds it, or ``None`` for a kind the picture
does not fold (airspace alerts, users, probing: recorded for proof and read by their
features). Writers build events with :meth:`EntryKind.build`, which refuses a missing or
unknown field, so what a writer puts in the record cannot drift from what readers expect;
readers dispatch on :func:`kind_named` and treat an entry of an unregistered kind, or of a
registered kind with the wrong fields, as an explicit anomaly.

A feature declares its kinds at import, beside the code that writes them, and writes their
folds in its ``fold`` module: the state they keep (each part of it named by a :class:`Part`
the fold module declares) and a function for each kind (kinds may share one), given the
replay (:class:`Replaying`) and the verified entry (:class:`Recorded`), that answers
whether the entry fit the entries before it::

    CONFIRMED = entry_kind(
        "condition.confirmed", signer=Signer.MEMBER, required=("condition", "user"),
        fold=fold.confirmed, summary="a member confirms one of the agreement's conditions",
    )

A fold module imports neither the picture nor another feature (the picture imports the
folds): the replay finds each part by its key, so a new feature's folds need no change to
the replay, only to the views that show what they keep.

:func:`registered` imports every feature module that declares kinds (:data:`FEATURES`),
so the registry is whole whoever asks first.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from accord.agreement import Agreement

__all__ = [
    "FEATURES",
    "EntryKind",
    "Fold",
    "Part",
    "Recorded",
    "Replaying",
    "Signer",
    "entry_kind",
    "kind_named",
    "part_named",
    "parts",
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
    "accord.center.certificates.service",
    "accord.center.signing.service",
    "accord.center.reports.service",
    "accord.center.drafts.service",
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


T = TypeVar("T")
V = TypeVar("V")

_PARTS: dict[str, Part[Any]] = {}


def part_named(name: str) -> Part[Any] | None:
    """The part of the replay's state named ``name`` (None for a name no feature declares)."""
    if name not in _PARTS:
        registered()
    return _PARTS.get(name)


def parts() -> tuple[Part[Any], ...]:
    """Every part of the replay's state, by name (the feature modules imported first)."""
    registered()
    return tuple(_PARTS[name] for name in sorted(_PARTS))


class Part(Generic[T]):
    """One part of the state the picture's replay keeps, declared by the fold module of the
    feature whose folds keep it (say, the declarations by id): the key its folds and its
    readers find it by (:meth:`Replaying.part`). A replay makes each part with ``make``
    when it is first asked for, so a replay of a record with none of a feature's entries
    has that feature's part empty.

    ``shape``: the part's type, as a snapshot of the folded state writes and reads it
    (:mod:`accord.center.picture.codec`): plain values, ``datetime``, dataclasses, and
    lists, tuples and dicts of them. Each part has its own name (:func:`part_named`).

    ``done``, for a part of objects by id (``dict[str, V]``): whether an object will never be
    shown again in a picture at or after an instant (a withdrawn declaration, a message
    every recipient acknowledged, an operation that ended a day before). A picture's replay
    keeps such objects compact, as encoded bytes, and reads one back only when a later entry
    names it (:meth:`Replaying.find`): what a picture holds grows with the live objects, not
    with every object the record ever told of."""

    __slots__ = ("done", "make", "name", "shape")

    def __init__(
        self,
        name: str,
        make: Callable[[], T],
        *,
        shape: Any,
        done: Callable[[Agreement, Any, datetime], bool] | None = None,
    ) -> None:
        if name in _PARTS:
            raise ValueError(f"two parts of the replay's state are named {name!r}")
        self.name = name
        self.make = make
        self.shape = shape
        self.done = done
        _PARTS[name] = self

    def __repr__(self) -> str:
        return f"Part({self.name!r})"

    def __reduce__(self) -> tuple[Callable[[str], Part[Any]], tuple[str]]:
        """Pickled by name: the part unpickled is the one its feature declared (state is
        found by the part's identity), as a pickled judge needs
        (:mod:`accord.center.picture.judge_checkpoints`)."""
        return _declared_part, (self.name,)


def _declared_part(name: str) -> Part[Any]:
    """The part named ``name`` (an unpickled :class:`Part`); a name no feature declares is a
    :class:`LookupError`."""
    found = part_named(name)
    if found is None:
        raise LookupError(f"no part of the replay's state is named {name!r}")
    return found


class Replaying(Protocol):
    """What a fold is given: the replay folding the record, as far as a fold reads it."""

    @property
    def agreement(self) -> Agreement:
        """The agreement the record is kept under."""
        ...

    @property
    def origin(self) -> str:
        """The log's origin: the center's own name, the author of its own entries."""
        ...

    @property
    def openings(self) -> Mapping[int, Mapping[str, Any]]:
        """The contents of the openings of entries' commitments, by entry index: each
        already checked against its entry's commitment."""
        ...

    def part(self, key: Part[T]) -> T:
        """The part of the state ``key`` names (made empty when first asked for)."""
        ...

    def find(self, key: Part[dict[str, V]], object_id: str) -> V | None:
        """The object ``object_id`` of the part ``key`` names, read back into the part if
        it had been set aside as done (:attr:`Part.done`); None if the record never told of
        it. A fold looks objects up with this, never with the part's ``get``."""
        ...

    def known(self, key: Part[dict[str, V]], object_id: str) -> bool:
        """Whether the record told of the object ``object_id`` of the part ``key`` names,
        done or not (without reading it back)."""
        ...


Fold: TypeAlias = Callable[[Replaying, Recorded], bool]
"""How the picture's replay folds an entry of a kind: the replay and the entry (of this
kind, its fields and signer already checked) in, whether it fit the entries before it out.
An entry that does not fit changes nothing and is an anomaly; so is one whose fold raises
:class:`KeyError`, :class:`ValueError`, :class:`TypeError` or :class:`AttributeError` (a
field of the wrong shape)."""


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
    fold: Fold | None
    """How the picture's replay folds entries of this kind (``None``: it does not)."""
    summary: str
    acts: tuple[str, ...] = ()
    """The requests whose act may cause an entry of this kind (a member's kind), as
    :func:`accord.record.bindings.fits` templates: ``"POST /v1/operations/{operation}/approve"``."""

    def problems(self, event: Mapping[str, Any]) -> list[str]:
        """What is wrong with ``event`` as an entry of this kind (nothing: ``[]``).

        >>> k = EntryKind("x.y", Signer.MEMBER, frozenset({"id"}), frozenset({"note"}),
        ...               None, "an example")
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
    fold: Fold | None,
    summary: str,
    acts: Iterable[str] = (),
) -> EntryKind:
    """Declare and register the kind ``name`` (once: a second declaration is a bug) with
    its ``fold`` into the picture (``None``: the picture does not fold it)."""
    kind = EntryKind(
        name, signer, frozenset(required), frozenset(optional), fold, summary, tuple(acts)
    )
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
