"""The record folded into state: :class:`Replay` applies verified entries
(:mod:`accord.center.picture.verified`) in order, each through the fold its registered kind
carries (:attr:`accord.center.entry_kinds.EntryKind.fold`, written in the kind's feature:
``declarations/fold.py``, ``operations/fold.py``, ``directline/fold.py``,
``phases/fold.py``), into the parts of state those folds keep — declarations, operations,
direct-line messages and condition confirmations. The service's own tables
(``declarations``, ``operations``, ``messages``) are never read for state. An entry that
does not fit (an unknown kind, fields its kind does not have, the wrong signer, a step that
does not follow from the entries before it) is an anomaly, with its reason.

**Done objects are set aside.** Every :data:`SWEEP_EVERY` entries a picture's replay sets
aside, as compressed encoded bytes, each object its part calls done at that entry's instant
(:attr:`accord.center.entry_kinds.Part.done`: never shown in a picture at or after it), and
reads one back only when a later entry names it. So the objects a replay holds are the live
ones and those that ended lately; the record's history costs it some hundred bytes an object
ended. The compliance judge sets them aside too, keeping what it will always find of each
(:attr:`Replay.on_aside`): a late acknowledgement, a late notice.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar, cast

from accord.agreement import Agreement
from accord.center.declarations.fold import DECLARATIONS, UNOPENED, DeclarationState
from accord.center.directline.fold import MESSAGES, MessageRecord
from accord.center.entry_kinds import Part, Recorded, Signer, kind_named
from accord.center.operations.fold import OPERATIONS, OperationRecord
from accord.center.phases.fold import CONFIRMATIONS
from accord.center.picture.codec import codec
from accord.center.picture.verified import (
    MARK_EVERY,
    hidden_openings,
    opened_cache,
    verified_log,
    verified_record,
)
from accord.center.runtime import Center

__all__ = ["SWEEP_EVERY", "Replay", "replay_until"]

T = TypeVar("T")
V = TypeVar("V")

SWEEP_EVERY = MARK_EVERY
"""How many entries a picture's replay folds between two settings-aside of done objects: the
spacing of the snapshots (:data:`~accord.center.picture.verified.MARK_EVERY`), so that a
picture's tail, folded on from the snapshot before it, sweeps none (each sweep goes through
every object held: 0.25 s of a picture whose tail held 5,000 open messages, at the old
1,000), and a fold from the first entry holds at most that many entries' worth of done
objects more."""

_MARSHAL_VERSION = 2
"""The format of an object set aside: 2, the latest that writes a value's bytes from the value
alone (3 and 4 write an object met twice as a reference to the first, so the same value
held by two replays could be written two ways and not be held once: :attr:`Replay.twin`)."""


class Replay:
    """The record folded entry by entry. Entries that do not fit (an amendment by someone
    other than the owner, a step about an unknown object) are kept in ``anomalies`` by index
    and change nothing.

    The state is kept in parts, each declared by the feature whose folds keep it
    (:class:`~accord.center.entry_kinds.Part`, found with :meth:`part`); the picture's parts
    are also :attr:`declarations`, :attr:`operations`, :attr:`messages`,
    :attr:`confirmations` and :attr:`unopened`.

    ``openings`` maps an entry's index to the content of its opening, *already checked
    against that entry's commitment* (:func:`~accord.center.picture.verified.hidden_openings`):
    a ``declaration.hidden`` entry is folded from its opening alone, and one without an
    opening is kept in ``unopened`` and changes nothing
    (:mod:`accord.center.declarations.fold`)."""

    def __init__(
        self,
        agreement: Agreement,
        origin: str,
        openings: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> None:
        self.agreement = agreement
        self.origin = origin
        self.openings: Mapping[int, Mapping[str, Any]] = {} if openings is None else openings
        self.anomalies: list[int] = []
        self.reasons: dict[int, str] = {}
        self.entries = 0
        self.load: Callable[[str], bytes] | None = None
        """Where an object a snapshot names by its digest is read back from (set by
        :mod:`accord.center.picture.snapshots`: it checks the digest)."""
        self.on_aside: Callable[[Part[Any], str, Any, datetime], None] | None = None
        """Told of each object as it is set aside (its part, id, the object and the
        instant): the compliance judge keeps what it will always find of it."""
        self.on_revive: Callable[[Part[Any], str], None] | None = None
        """Told of each object read back into its part."""
        self.twin: Replay | None = None
        """Another replay of the same entries, set aside first: an object this one sets
        aside whose bytes are that one's for it, byte for byte, is held once (the compliance
        judge's two replays, most of whose done objects are the same)."""
        self._parts: dict[Part[Any], Any] = {}
        self._aside: dict[Part[Any], dict[str, bytes | str]] = {}
        self._parked: dict[Part[Any], dict[str, bytes]] = {}
        self._index: dict[Part[Any], dict[str, Any]] = {}

    @classmethod
    def resumed(
        cls,
        agreement: Agreement,
        origin: str,
        *,
        entries: int,
        anomalies: list[int],
        reasons: dict[int, str],
        parts: Mapping[Part[Any], Any],
        aside: Mapping[Part[Any], Mapping[str, bytes | str]],
    ) -> Replay:
        """A picture's replay that has folded ``entries`` entries to this state (a
        snapshot's: :mod:`accord.center.picture.snapshots`), to fold on from."""
        replay = cls(agreement, origin)
        replay.entries = entries
        replay.anomalies = anomalies
        replay.reasons = reasons
        replay._parts = dict(parts)
        replay._aside = {key: dict(objects) for key, objects in aside.items()}
        return replay

    def made(self) -> dict[Part[Any], Any]:
        """Every part of the state made so far, by its key (a snapshot writes them; the
        objects parked are read first)."""
        for key in list(self._parked):
            self._unpark(key)
        return dict(self._parts)

    def park(
        self, key: Part[dict[str, Any]], objects: Mapping[str, bytes], index: Mapping[str, Any]
    ) -> None:
        """Hold ``objects`` of ``key``'s part as their encoded bytes (marshal of the codec's
        form), each read when an entry names it (:meth:`find`) or when the part is asked for
        whole; ``index``: what a selection needs of each, by id (:meth:`parked`). A
        snapshot's live objects are parked so, so that a picture builds only the ones its
        page returns (:mod:`accord.center.picture.snapshots`)."""
        self._parked[key] = dict(objects)
        self._index[key] = dict(index)

    def parked(self, key: Part[dict[str, V]]) -> tuple[Mapping[str, V], Mapping[str, Any]]:
        """``key``'s part as held: the objects read (by id) and the index of those still
        parked (by id; none of them is among the objects read). Read-only views."""
        objects = self._parts.get(key) or {}
        return MappingProxyType(objects), MappingProxyType(self._index.get(key, {}))

    def unpark(self, key: Part[dict[str, V]], object_id: str) -> V:
        """The parked object ``object_id`` of ``key``'s part, read into the part."""
        found = self.find(key, object_id)
        if found is None:
            raise KeyError(object_id)
        return found

    def _unpark(self, key: Part[Any]) -> None:
        """Every parked object of ``key``'s part read into it (an object read already, or
        made by a later entry, stays as it is)."""
        parked = self._parked.pop(key, None)
        self._index.pop(key, None)
        if not parked:
            return
        objects = self.part(key)
        for object_id, body in parked.items():
            if object_id not in objects:
                objects[object_id] = _unparked(key, body)

    def aside(self) -> dict[Part[Any], Mapping[str, bytes | str]]:
        """The done objects set aside, by part and id: each its encoded bytes, or the
        SHA-256 (hex) they are stored under (as a snapshot named them). Read-only views,
        not copies: a snapshot's writer counts them."""
        return {key: MappingProxyType(objects) for key, objects in self._aside.items()}

    def name_aside(self, name: Callable[[bytes], str]) -> dict[Part[Any], dict[str, str]]:
        """Every object set aside, each kept as bytes from now on named by ``name`` (its
        digest, once stored: read back with :attr:`load`); by part and id."""
        named: dict[Part[Any], dict[str, str]] = {}
        for key, objects in self._aside.items():
            for object_id, kept in objects.items():
                if isinstance(kept, bytes):
                    objects[object_id] = name(kept)
            named[key] = cast(dict[str, str], dict(objects))
        return named

    def find(self, key: Part[dict[str, V]], object_id: str) -> V | None:
        """The object ``object_id`` of the part ``key`` names, read back into the part if
        it had been set aside; None if the record never told of it."""
        objects = self.part(key)
        found = objects.get(object_id)
        parked = self._parked.get(key)
        if found is None and parked is not None and object_id in parked:
            found = objects[object_id] = _unparked(key, parked.pop(object_id))
            del self._index[key][object_id]
            return found
        if found is None:
            kept = self._aside.get(key)
            if kept is not None and object_id in kept:
                body = kept.pop(object_id)
                if isinstance(body, str):
                    if self.load is None:
                        raise RuntimeError("an object named by its digest, and no store")
                    body = self.load(body)
                encoded = marshal.loads(zlib.decompress(body))
                found = objects[object_id] = codec(_element(key))[1](encoded)
                if self.on_revive is not None:
                    self.on_revive(key, object_id)
        return found

    def known(self, key: Part[dict[str, V]], object_id: str) -> bool:
        """Whether the record told of the object ``object_id``, set aside or not."""
        return (
            object_id in self.part(key)
            or object_id in self._parked.get(key, ())
            or object_id in self._aside.get(key, ())
        )

    def _set_aside(self, at: datetime) -> None:
        """Every object its part calls done at ``at``, encoded and set aside."""
        for key, objects in self._parts.items():
            done = key.done
            if done is None:
                continue
            gone = [i for i, o in objects.items() if done(self.agreement, o, at)]
            if not gone:
                continue
            encode = codec(_element(key))[0]
            kept = self._aside.setdefault(key, {})
            twin = {} if self.twin is None else self.twin._aside.get(key, {})
            for object_id in gone:
                if self.on_aside is not None:
                    self.on_aside(key, object_id, objects[object_id], at)
                encoded = marshal.dumps(encode(objects.pop(object_id)), _MARSHAL_VERSION)
                body = zlib.compress(encoded, 1)
                same = twin.get(object_id)
                kept[object_id] = same if isinstance(same, bytes) and same == body else body

    def part(self, key: Part[T]) -> T:
        """The part of the state ``key`` names (made empty when first asked for)."""
        if key not in self._parts:
            self._parts[key] = key.make()
        return cast(T, self._parts[key])

    def whole(self, key: Part[T]) -> T:
        """The part of the state ``key`` names with every object parked read into it: what
        code that goes through all of its objects asks for (:meth:`part` is an entry's fold's:
        it reads none of them)."""
        if key in self._parked:
            self._unpark(key)
        return self.part(key)

    @property
    def declarations(self) -> dict[str, DeclarationState]:
        """Every declaration the record tells of, by id."""
        return self.whole(DECLARATIONS)

    @property
    def operations(self) -> dict[str, OperationRecord]:
        """Every operation the record tells of, by id."""
        return self.whole(OPERATIONS)

    @property
    def messages(self) -> dict[str, MessageRecord]:
        """Every direct-line message the record tells of, by id."""
        return self.whole(MESSAGES)

    @property
    def confirmations(self) -> dict[str, datetime]:
        """Condition → the instant of its earliest confirmation."""
        return self.part(CONFIRMATIONS)

    @property
    def unopened(self) -> list[int]:
        """The ``declaration.hidden`` entries without a checked opening, by index."""
        return self.part(UNOPENED)

    def fold(self, records: list[Recorded]) -> Replay:
        """Apply ``records`` in order; returns self."""
        for record in records:
            self.apply(record)
        return self

    def apply(self, record: Recorded) -> None:
        """Apply one entry: dispatched on its registered kind
        (:func:`~accord.center.entry_kinds.kind_named`) to the kind's fold. An unknown
        kind, fields the kind does not have, the wrong signer (a member's act signed by the
        center, or the reverse) or a step that does not fit what came before is an anomaly
        (:attr:`anomalies`, with the reason in :attr:`reasons`); a registered kind without a
        fold (alerts, users, probing) changes nothing."""
        self.entries = record.index + 1
        self._fold(record)
        if self.entries % SWEEP_EVERY == 0:
            self._set_aside(record.at)

    def _fold(self, record: Recorded) -> None:
        name = str(record.event.get("kind", ""))
        spec = kind_named(name)
        if spec is None:
            self._anomaly(record, f"an unknown kind of entry, {name[:64]!r}")
            return
        wrong = spec.problems(record.event)
        if wrong:
            self._anomaly(record, f"a {name} entry with {'; '.join(wrong)}")
            return
        by_center = record.author == self.origin
        if by_center != (spec.signer is Signer.CENTER):
            self._anomaly(record, f"a {name} entry signed by {record.author}")
            return
        if spec.fold is None:
            return
        try:
            ok = spec.fold(self, record)
        except (KeyError, ValueError, TypeError, AttributeError):
            ok = False
        if not ok:
            self._anomaly(record, f"a {name} entry that does not fit the entries before it")

    def _anomaly(self, record: Recorded, reason: str) -> None:
        self.anomalies.append(record.index)
        self.reasons[record.index] = reason


def _unparked(key: Part[dict[str, V]], body: bytes) -> V:
    """A parked object read. Its bytes are a checked snapshot's, of this form: one that does
    not read is this version's fault, raised as such — never taken by a fold for an entry
    that does not fit (its :class:`ValueError` or :class:`TypeError`)."""
    try:
        return cast(V, codec(_element(key))[1](marshal.loads(body)))
    except (EOFError, ValueError, TypeError, IndexError, KeyError) as error:
        raise RuntimeError(f"a parked object of the {key.name} does not read: {error}") from None


def _element(key: Part[Any]) -> Any:
    """The type of one object of a part of objects by id (``dict[str, V]``: ``V``)."""
    return key.shape.__args__[1]


def replay_until(center: Center, until: datetime | None) -> Replay:
    """The record (its prefix up to ``until``) read, checked and folded."""
    with center.reading() as session:
        records, _ = verified_record(center, verified_log(center, session), until=until)
        opened = hidden_openings(session, records, cache=opened_cache(center))
    return Replay(center.agreement, center.origin, opened).fold(records)
