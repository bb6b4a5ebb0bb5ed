"""The record folded into state: :class:`Replay` applies verified entries
(:mod:`accord.center.picture.verified`) in order, each through the fold its registered kind
carries (:attr:`accord.center.entry_kinds.EntryKind.fold`, written in the kind's feature:
``declarations/fold.py``, ``operations/fold.py``, ``directline/fold.py``,
``phases/fold.py``), into the parts of state those folds keep — declarations, operations,
direct-line messages and condition confirmations. The service's own tables
(``declarations``, ``operations``, ``messages``) are never read for state. An entry that
does not fit (an unknown kind, fields its kind does not have, the wrong signer, a step that
does not follow from the entries before it) is an anomaly, with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

from accord.agreement import Agreement
from accord.center.declarations.fold import DECLARATIONS, UNOPENED, DeclarationState
from accord.center.directline.fold import MESSAGES, MessageRecord
from accord.center.entry_kinds import Part, Recorded, Signer, kind_named
from accord.center.operations.fold import OPERATIONS, OperationRecord
from accord.center.phases.fold import CONFIRMATIONS
from accord.center.picture.verified import (
    hidden_openings,
    opened_cache,
    verified_log,
    verified_record,
)
from accord.center.runtime import Center

__all__ = ["Replay", "replay_until"]

T = TypeVar("T")


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
        self._parts: dict[Part[Any], Any] = {}

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
    ) -> Replay:
        """A replay that has folded ``entries`` entries to this state (a snapshot's:
        :mod:`accord.center.picture.snapshots`), to fold on from."""
        replay = cls(agreement, origin)
        replay.entries = entries
        replay.anomalies = anomalies
        replay.reasons = reasons
        replay._parts = dict(parts)
        return replay

    def made(self) -> dict[Part[Any], Any]:
        """Every part of the state made so far, by its key (a snapshot writes them)."""
        return dict(self._parts)

    def part(self, key: Part[T]) -> T:
        """The part of the state ``key`` names (made empty when first asked for)."""
        if key not in self._parts:
            self._parts[key] = key.make()
        return cast(T, self._parts[key])

    @property
    def declarations(self) -> dict[str, DeclarationState]:
        """Every declaration the record tells of, by id."""
        return self.part(DECLARATIONS)

    @property
    def operations(self) -> dict[str, OperationRecord]:
        """Every operation the record tells of, by id."""
        return self.part(OPERATIONS)

    @property
    def messages(self) -> dict[str, MessageRecord]:
        """Every direct-line message the record tells of, by id."""
        return self.part(MESSAGES)

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


def replay_until(center: Center, until: datetime | None) -> Replay:
    """The record (its prefix up to ``until``) read, checked and folded."""
    with center.reading() as session:
        records, _ = verified_record(center, verified_log(center, session), until=until)
        opened = hidden_openings(session, records, cache=opened_cache(center))
    return Replay(center.agreement, center.origin, opened).fold(records)
