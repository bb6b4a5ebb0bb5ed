"""The deconfliction cache: the world in force, indexed once, kept current cheaply.

Building a :class:`~accord.deconfliction.DeconflictionIndex` costs about a second per
100,000 objects; checking an operation against it costs well under a millisecond. A service
that checks every proposal cannot rebuild per request, so one :class:`WorldCache` per process
keeps

* a **base**: the objects in force as of ``declarations.rev`` R and ``operations.rev`` Q,
  with their index;
* a **delta**: every declaration and operation changed after (R, Q), read at each check with
  ``rev > last seen`` (a range scan on a unique index: usually no row at all), each as its new
  version or as a tombstone when it left the world, with a small index over the new versions
  (rebuilt only when the delta changed).

A check asks both indexes and drops the base's hits on objects the delta replaced or removed,
so the answer is exactly the one a fresh index over everything in force would give (a
property test holds the two to each other). When the delta grows past ``rebuild_after``
entries, a new base is built from the old base and the delta, in a background thread (or at
once, see ``background``), and swapped in when ready; past ``4 × rebuild_after`` the check
itself waits for the rebuild, so the delta stays small.

Objects of the world are the ``active`` declarations and the operations whose stored status
is one of :data:`LIVE`: an operation still pending, or executed and not yet completed (it is
still happening in its window). Conflicts between operations follow the agreement's
``operation`` buffer.

The cache reads through the session it is given; callers check *before* writing in their
unit of work, so the rows read are committed ones (writers are serialised).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement, ObjectKind
from accord.center.db.models import Declaration
from accord.center.db.models_operations import OperationRow
from accord.center.problems import ProblemError
from accord.deconfliction import Conflict, DeconflictionIndex
from accord.errors import WorldError
from accord.rules.operations import PENDING, OperationStatus
from accord.world import Declared, Operation, parse_world

__all__ = ["LIVE", "WorldCache", "conflict_order", "parse_features"]

LIVE: frozenset[str] = frozenset({s.value for s in PENDING} | {OperationStatus.EXECUTED.value})
"""Stored operation statuses whose operations are objects of the world."""

_DECLARATION = "declaration"
_OPERATION = "operation"
_KIND_ORDER = {kind: i for i, kind in enumerate(ObjectKind)}
_log = logging.getLogger("accord.center")

Key = tuple[str, str]
"""(source table, id): declarations and operations are counted and keyed apart."""


def conflict_order(conflict: Conflict) -> tuple[bool, float, int, str]:
    """The order conflicts are answered in: blocking first, then nearest, then kind and id."""
    return (
        not conflict.blocking,
        conflict.distance_m,
        _KIND_ORDER[conflict.kind],
        conflict.with_id or "",
    )


def _key_of(conflict: Conflict) -> Key:
    source = _OPERATION if conflict.kind is ObjectKind.OPERATION else _DECLARATION
    return (source, conflict.with_id or "")


def parse_features(agreement: Agreement, features: Iterable[Any]) -> list[Declared]:
    """Declared objects from GeoJSON features (raises :class:`~accord.errors.WorldError`
    naming each bad field)."""
    world = parse_world(
        {"type": "FeatureCollection", "features": list(features)}, agreement, source="stored"
    )
    return list(world)


def _stored(agreement: Agreement, features: Iterable[str]) -> list[Declared]:
    """Objects from stored rows. A stored row that no longer reads (a damaged row, another
    agreement) means no operation can be checked against everything in force: the check
    is refused (503, details in the server's log) rather than made against less."""
    try:
        return parse_features(agreement, (json.loads(f) for f in features))
    except (WorldError, ValueError) as error:
        _log.error("a stored declaration or operation does not read: %s", error)
        raise ProblemError(
            503,
            "the world in force cannot be read; no operation can be checked now",
            kind="world-unavailable",
        ) from None


_LATEST = select(
    select(func.max(Declaration.rev)).scalar_subquery(),
    select(func.max(OperationRow.rev)).scalar_subquery(),
)
"""Both counters in one statement."""


@dataclass(frozen=True, slots=True)
class _Base:
    """The objects in force as of (declaration rev, operation rev), indexed."""

    revs: Mapping[str, int]
    objects: Mapping[Key, Declared]
    index: DeconflictionIndex


@dataclass(slots=True)
class _Change:
    """A delta entry: the object's version at ``rev`` (None: it left the world)."""

    rev: int
    obj: Declared | None


@dataclass(slots=True)
class _Stats:
    """What the cache did, for tests and benchmarks."""

    full_loads: int = 0
    rebuilds: int = 0
    delta_builds: int = 0
    checks: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class WorldCache:
    """One process's index over the world in force (see the module docstring).

    Parameters
    ----------
    agreement
        Buffers and blocking kinds; also what stored features are read against.
    rebuild_after
        Delta entries after which a new base is built.
    background
        Build new bases in a background thread (the service) or at once (tests).
    """

    def __init__(
        self, agreement: Agreement, *, rebuild_after: int = 256, background: bool = True
    ) -> None:
        self.agreement = agreement
        self.rebuild_after = max(1, rebuild_after)
        self.background = background
        self.stats = _Stats()
        self._lock = threading.Lock()
        self._base: _Base | None = None
        self._seen: dict[str, int] = {_DECLARATION: 0, _OPERATION: 0}
        self._delta: dict[Key, _Change] = {}
        self._delta_index: DeconflictionIndex | None = None
        self._delta_dirty = False
        self._worker: threading.Thread | None = None

    # --- reading the database -----------------------------------------------------------

    def _max_revs(self, session: Session) -> dict[str, int]:
        return {
            _DECLARATION: int(session.scalar(select(func.max(Declaration.rev))) or 0),
            _OPERATION: int(session.scalar(select(func.max(OperationRow.rev))) or 0),
        }

    def _load(self, session: Session) -> None:
        """Read everything in force and build the first base (once per process)."""
        revs = self._max_revs(session)
        declared = session.execute(
            select(Declaration.id, Declaration.feature).where(
                Declaration.status == "active", Declaration.rev <= revs[_DECLARATION]
            )
        ).all()
        operations = session.execute(
            select(OperationRow.id, OperationRow.feature).where(
                OperationRow.status.in_(LIVE), OperationRow.rev <= revs[_OPERATION]
            )
        ).all()
        objects: dict[Key, Declared] = {}
        for source, rows in ((_DECLARATION, declared), (_OPERATION, operations)):
            parsed = _stored(self.agreement, (f for _, f in rows))
            objects.update(((source, obj.id), obj) for obj in parsed)
        self._base = _Base(revs, objects, DeconflictionIndex(self.agreement, objects.values()))
        self._seen = dict(revs)
        self._delta = {}
        self._delta_dirty = True
        self.stats.full_loads += 1

    def _catch_up(self, session: Session) -> None:
        """Read the rows changed since the last check into the delta (one cheap statement
        when nothing changed: the two counters)."""
        decl_rev, op_rev = session.execute(_LATEST).one()
        if (decl_rev or 0) <= self._seen[_DECLARATION] and (op_rev or 0) <= self._seen[_OPERATION]:
            return
        decl = session.execute(
            select(Declaration.id, Declaration.rev, Declaration.status, Declaration.feature)
            .where(Declaration.rev > self._seen[_DECLARATION])
            .order_by(Declaration.rev)
        ).all()
        ops = session.execute(
            select(OperationRow.id, OperationRow.rev, OperationRow.status, OperationRow.feature)
            .where(OperationRow.rev > self._seen[_OPERATION])
            .order_by(OperationRow.rev)
        ).all()
        for source, rows, live in (
            (_DECLARATION, decl, frozenset({"active"})),
            (_OPERATION, ops, LIVE),
        ):
            for object_id, rev, status, feature in rows:
                obj = _stored(self.agreement, [feature])[0] if status in live else None
                self._delta[(source, object_id)] = _Change(int(rev), obj)
                self._seen[source] = max(self._seen[source], int(rev))
                self._delta_dirty = True

    # --- rebuilding -------------------------------------------------------------------------

    def _snapshot(self) -> tuple[dict[str, int], dict[Key, Declared]]:
        """The base with the delta applied (under the lock)."""
        assert self._base is not None
        objects = dict(self._base.objects)
        for key, change in self._delta.items():
            if change.obj is None:
                objects.pop(key, None)
            else:
                objects[key] = change.obj
        return dict(self._seen), objects

    def _install(self, revs: dict[str, int], objects: dict[Key, Declared], index: Any) -> None:
        """Swap in a base built at ``revs`` (under the lock); keep only later changes. A base
        older than the one in place (a slow background build) is dropped."""
        if self._base is not None and any(revs[s] < self._base.revs[s] for s in revs):
            return
        self._base = _Base(revs, objects, index)
        self._delta = {
            key: change for key, change in self._delta.items() if change.rev > revs[key[0]]
        }
        self._delta_dirty = True
        self.stats.rebuilds += 1

    def _rebuild_in_background(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        revs, objects = self._snapshot()

        def work() -> None:
            try:
                index = DeconflictionIndex(self.agreement, objects.values())
            except Exception:  # pragma: no cover - the next check tries again
                _log.exception("rebuilding the deconfliction index failed")
                return
            with self._lock:
                self._install(revs, objects, index)

        self._worker = threading.Thread(target=work, name="accord-world-rebuild", daemon=True)
        self._worker.start()

    def _rebuild_now(self) -> None:
        revs, objects = self._snapshot()
        self._install(revs, objects, DeconflictionIndex(self.agreement, objects.values()))

    def _delta_view(self) -> DeconflictionIndex | None:
        if self._delta_dirty:
            live = [c.obj for c in self._delta.values() if c.obj is not None]
            self._delta_index = DeconflictionIndex(self.agreement, live) if live else None
            self._delta_dirty = False
            self.stats.delta_builds += 1
        return self._delta_index

    # --- asking -----------------------------------------------------------------------------

    def prepare(self, session: Session) -> None:
        """Load the world now (at start-up) rather than on the first check."""
        with self._lock:
            if self._base is None:
                self._load(session)

    def check(self, session: Session, operation: Operation) -> tuple[Conflict, ...]:
        """Every conflict of ``operation`` with the world in force as ``session`` sees it
        (the operation itself, if it is in the world, excluded), in :func:`conflict_order`."""
        with self._lock:
            if self._base is None:
                self._load(session)
            self._catch_up(session)
            if len(self._delta) > 4 * self.rebuild_after or (
                len(self._delta) > self.rebuild_after and not self.background
            ):
                self._rebuild_now()
            elif len(self._delta) > self.rebuild_after:
                self._rebuild_in_background()
            base = self._base
            assert base is not None
            changed = frozenset(self._delta)
            delta = self._delta_view()
            self.stats.checks += 1
        own: Key = (_OPERATION, operation.id)
        found = [
            c
            for c in base.index.check(operation).conflicts
            if (key := _key_of(c)) not in changed and key != own
        ]
        if delta is not None:
            found.extend(c for c in delta.check(operation).conflicts if _key_of(c) != own)
        return tuple(sorted(found, key=conflict_order))

    def close(self) -> None:
        """Wait for a background rebuild to finish (at shut-down)."""
        worker = self._worker
        if worker is not None:
            worker.join()
