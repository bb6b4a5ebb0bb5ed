"""The deconfliction cache: the world in force, indexed once, kept current cheaply.

Building a :class:`~accord.deconfliction.DeconflictionIndex` costs about a second per
100,000 objects; checking an operation against it costs well under a millisecond. A service
that checks every proposal cannot rebuild per request, so one :class:`WorldCache` per process
keeps the world in three layers, each with its own index:

* the **base**: every object in force as of a pair of counters (``declarations.rev``,
  ``operations.rev``) — large, rebuilt rarely;
* the **runs**: the objects changed after the base, as of later counters, in a few
  immutable layers (oldest first), each built once from a folded tail — up to
  ``merge_after`` of them in all, holding up to ``merge_vertices`` vertices;
* the **tail**: the objects changed after the newest run, read at each check with
  ``rev > last seen`` (one statement reading both counters when nothing changed) — up to
  ``fold_after`` of them, holding up to ``fold_vertices`` vertices, so that its index,
  rebuilt when it changed, costs well under a millisecond.

Layers are sized by what they cost, not only by how many objects they hold: an index's
build and a gridless scan cost per *vertex* (as the engine counts them: one every 2 km
along lines and boundaries, :func:`accord.world.densified_vertices`), so one object of
25,000 vertices folds the tail at once rather than being rebuilt and scanned at every later
check until 64 small changes push it out.

A changed object is kept in a layer as its new version, or as a tombstone when it left the
world (withdrawn, ended). A check asks every layer's index and keeps each hit only from the
newest layer that knows its object, so the answer is exactly the one a fresh index over
everything in force would give (a property test holds the two to each other).

When the tail grows past ``fold_after`` objects or ``fold_vertices`` vertices, it is folded
into a new run, indexed from the tail's changes alone; two neighbouring runs are compacted
into one when the older weighs less than twice the newer (objects plus vertices), so the
runs stay few (about log₂ of their weight over a fold's) and each change is indexed again
only that many times before the next merge — folding the tail into one middle layer
instead rebuilt everything changed since the base at every fold, which made a party
stacking heavy operations in one spot cost the writer's process a growing rebuild per
proposal. When the runs together pass ``merge_after`` objects or ``merge_vertices``
vertices, everything is merged into a new base. Folds and compactions share one background
thread, merges have another, their results swapped in when ready; with
``background=False`` (tests) they happen at once, and so does a merge when one check finds
more than ``merge_after`` changes (or ``merge_vertices`` vertices) at once (a bulk load). A
background result built on a base (or on runs) that has been replaced since is dropped (its
changes are still in the layers above), so the layers never hold an older version of an
object above a newer one.

Objects of the world are the ``active`` declarations and the operations whose stored status
is one of :data:`LIVE`: an operation still pending, or executed and not yet completed (it is
still happening in its window). Conflicts between operations follow the agreement's
``operation`` buffer.

The cache reads through the session it is given; callers check *before* writing in their
unit of work, so the rows read are committed ones (writers are serialised).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from accord.agreement import Agreement, ObjectKind
from accord.center.db.fast import PreparedQuery
from accord.center.db.models import Declaration
from accord.center.db.models_operations import OperationRow
from accord.center.disclosure.shadows import shadow_of
from accord.deconfliction import Conflict, DeconflictionIndex
from accord.deconfliction.hidden import SHADOW_PREFIX, answer, answer_order
from accord.errors import WorldError, WorldUnavailable
from accord.rules.operations import PENDING, OperationStatus
from accord.world import Declared, Disclosure, Operation, densified_vertices, parse_world

__all__ = ["LIVE", "WorldCache", "parse_features"]

LIVE: frozenset[str] = frozenset({s.value for s in PENDING} | {OperationStatus.EXECUTED.value})
"""Stored operation statuses whose operations are objects of the world."""

_DECLARATION = "declaration"
_OPERATION = "operation"
_log = logging.getLogger("accord.center")

Key = tuple[str, str]
"""(source table, id): declarations and operations are counted and keyed apart."""


def _key_of(conflict: Conflict) -> Key:
    source = _OPERATION if conflict.kind is ObjectKind.OPERATION else _DECLARATION
    return (source, conflict.with_id or "")


def parse_features(
    agreement: Agreement, features: Iterable[Any], *, limits: bool = True
) -> list[Declared]:
    """Declared objects from GeoJSON features (raises :class:`~accord.errors.WorldError`
    naming each bad field); ``limits=False`` for stored features (see
    :func:`~accord.world.parse_world`)."""
    world = parse_world(
        {"type": "FeatureCollection", "features": list(features)},
        agreement,
        source="stored",
        limits=limits,
    )
    return list(world)


def _digest(feature: str) -> bytes:
    return hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _read_row(object_id: str, feature: str) -> Any:
    data = json.loads(feature)
    data["properties"]["id"] = object_id  # the row's id is the object's id
    return data


def _unreadable(error: Exception) -> WorldUnavailable:
    _log.error("a stored declaration or operation does not read: %s", error)
    return WorldUnavailable("the world in force cannot be read; no operation can be checked now")


def _stored(agreement: Agreement, rows: Iterable[tuple[str, str]]) -> list[Declared]:
    """Objects from stored rows (id, feature). A stored row that no longer reads (a damaged
    row, another agreement) means no operation can be checked against everything in force:
    the check is refused (:class:`~accord.errors.WorldUnavailable`, details in the server's
    log) rather than made against less."""
    try:
        return parse_features(agreement, (_read_row(i, f) for i, f in rows), limits=False)
    except (WorldError, ValueError, TypeError, KeyError) as error:
        raise _unreadable(error) from None


def _shadow(agreement: Agreement, obj: Declared | None, stored: str | None) -> Declared | None:
    """The shadow object of a stored declaration (see :mod:`accord.center.disclosure.shadows`); a
    stored shadow that does not read refuses the check as a row that does not read does."""
    if obj is None:
        return None
    try:
        return shadow_of(agreement, obj, stored)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise _unreadable(error) from None


_LATEST = PreparedQuery(
    select(
        select(func.max(Declaration.rev)).scalar_subquery(),
        select(func.max(OperationRow.rev)).scalar_subquery(),
    )
)
"""Both counters in one statement (read at every check)."""

_DECLARATIONS_SINCE = PreparedQuery(
    select(
        Declaration.id,
        Declaration.rev,
        Declaration.status,
        Declaration.feature,
        Declaration.disclosure,
        Declaration.shadow,
    )
    .where(Declaration.rev > bindparam("after"))
    .order_by(Declaration.rev)
)
_OPERATIONS_SINCE = PreparedQuery(
    select(OperationRow.id, OperationRow.rev, OperationRow.status, OperationRow.feature)
    .where(OperationRow.rev > bindparam("after"))
    .order_by(OperationRow.rev)
)
_ACTIVE = frozenset({"active"})
_EXPECTED_MAX = 1024


@dataclass(frozen=True, slots=True)
class _Change:
    """A changed object: its version at ``rev`` (None: it left the world), and the vertices
    the engine holds for it (its weight in a layer)."""

    rev: int
    obj: Declared | None
    vertices: int = 0


def _vertices(obj: Declared | None) -> int:
    """The vertices the engine holds for ``obj`` (0 for a tombstone)."""
    if obj is None:
        return 0
    geometry = obj.geometry
    if geometry.geom_type == "Point":
        return 1
    if geometry.geom_type == "Polygon":
        return densified_vertices(
            [list(geometry.exterior.coords), *(list(r.coords) for r in geometry.interiors)]
        )
    return densified_vertices([list(geometry.coords)])


def _weight(changes: Mapping[Key, _Change]) -> int:
    return sum(c.vertices for c in changes.values())


Changes = dict[Key, _Change]


_GRID_FROM = 256
"""Objects from which a layer's index gets a spatial grid; a smaller one (the tail, rebuilt
at each change) costs less to build without, and its checks scan its vertices (a numba loop
over at most a few thousand)."""

_GRID_FROM_VERTICES = 4096
"""Vertices from which a layer's index gets a grid, however few objects hold them: a check
without the grid scans every vertex."""

# The defaults below, for a service taking a proposal per change: a tail index (no grid)
# costs about 0.2 ms plus a few microseconds per object to build, once per change; a fold
# indexes the tail as a new run, and compactions index each change again about log₂(runs'
# weight / a fold's) times (about 5 ms per 1,000 point operations each time); a merge
# rebuilds the base (about a second per 100,000 objects), once per ``merge_after``. From
# those build costs, 64 and 8,192 come to about a millisecond per proposal for the three
# together, against 1.4 ms at 16 and 2,048 (the merge dominating).


def _index(agreement: Agreement, changes: Iterable[_Change]) -> DeconflictionIndex | None:
    live = [c for c in changes if c.obj is not None]
    if not live:
        return None
    grid = len(live) >= _GRID_FROM or sum(c.vertices for c in live) >= _GRID_FROM_VERTICES
    return DeconflictionIndex(agreement, [c.obj for c in live if c.obj is not None], grid=grid)


@dataclass(frozen=True, slots=True)
class _Base:
    """Every object in force as of ``revs``, indexed."""

    revs: Mapping[str, int]
    objects: Mapping[Key, Declared]
    index: DeconflictionIndex


@dataclass(frozen=True, slots=True)
class _Layer:
    """Objects changed after the layer below, up to ``revs``, indexed (None: nothing
    live)."""

    revs: Mapping[str, int]
    changes: Mapping[Key, _Change]
    index: DeconflictionIndex | None
    vertices: int = 0

    @property
    def weight(self) -> int:
        """What indexing the layer again costs, roughly: its objects and their vertices."""
        return len(self.changes) + self.vertices


_COMPACT_RATIO = 2
"""Two neighbouring runs are compacted when the older weighs less than this many times the
newer: run weights then fall geometrically from the oldest, like a binary counter's digits."""


@dataclass(slots=True)
class _Stats:
    """What the cache did, for tests and benchmarks."""

    full_loads: int = 0
    merges: int = 0
    folds: int = 0
    tail_builds: int = 0
    checks: int = 0
    dropped: int = 0
    compactions: int = 0


def _is_shadow(conflict: Conflict) -> bool:
    return (conflict.with_id or "").startswith(SHADOW_PREFIX)


@dataclass(frozen=True, slots=True)
class _Layers:
    """The layers one check asks, as caught up: each hit is kept only from the newest layer
    that knows its object."""

    base: _Base
    runs: tuple[_Layer, ...]
    tail_keys: frozenset[Key]
    tail: DeconflictionIndex | None
    declarations_seen: int

    def found(self, operation: Operation) -> list[Conflict]:
        """What the engine finds for ``operation`` over objects and shadows (the operation
        itself, if it is in the world, excluded)."""
        own: Key = (_OPERATION, operation.id)
        tail_keys, runs = self.tail_keys, self.runs

        def newest(key: Key, above: tuple[_Layer, ...]) -> bool:
            """Whether no layer above knows ``key`` (membership tests, not a union of up to
            merge_after keys per check)."""
            return key not in tail_keys and not any(key in r.changes for r in above)

        found = [
            c
            for c in self.base.index.check(operation).conflicts
            if (key := _key_of(c)) != own and newest(key, runs)
        ]
        for i, run in enumerate(runs):
            if run.index is not None:
                found.extend(
                    c
                    for c in run.index.check(operation).conflicts
                    if (key := _key_of(c)) != own and newest(key, runs[i + 1 :])
                )
        if self.tail is not None:
            found.extend(c for c in self.tail.check(operation).conflicts if _key_of(c) != own)
        return found


class WorldCache:
    """One process's index over the world in force (see the module docstring).

    Parameters
    ----------
    agreement
        Buffers and blocking kinds; also what stored features are read against.
    fold_after
        Tail entries after which the tail is folded into a new run.
    merge_after
        Changes held in the runs after which every layer is merged into a new base.
    fold_vertices
        Tail vertices after which the tail is folded, however few objects hold them.
    merge_vertices
        Vertices held in the runs after which every layer is merged, however few objects
        hold them.
    background
        Fold and merge in background threads (the service) or at once (tests).
    """

    def __init__(
        self,
        agreement: Agreement,
        *,
        fold_after: int = 64,
        merge_after: int = 8192,
        fold_vertices: int = 4096,
        merge_vertices: int = 262_144,
        background: bool = True,
    ) -> None:
        self.agreement = agreement
        self.fold_after = max(1, fold_after)
        self.merge_after = max(1, merge_after)
        self.fold_vertices = max(1, fold_vertices)
        self.merge_vertices = max(1, merge_vertices)
        self.background = background
        self.stats = _Stats()
        self._lock = threading.Lock()
        self._base: _Base | None = None
        self._generation = 0  # raised by every new base
        self._runs: tuple[_Layer, ...] = ()  # oldest first
        self._seen: dict[str, int] = {_DECLARATION: 0, _OPERATION: 0}
        self._tail: Changes = {}
        self._tail_index: DeconflictionIndex | None = None
        self._tail_dirty = False
        self._folding: threading.Thread | None = None
        self._merging: threading.Thread | None = None
        # Operation id -> digest of the stored feature of its live version in the newest
        # layer: a step that changes only an operation's status (an approval) leaves the
        # object as it was, and the layers and their indexes as they are.
        self._live_features: dict[str, bytes] = {}
        # Operation id -> (digest of the feature, the object) a unit of work is storing: when
        # the row comes back at the next catch-up, it is not read again.
        self._expected: dict[str, tuple[bytes, Declared]] = {}

    # --- reading the database -----------------------------------------------------------

    def _max_revs(self, session: Session) -> dict[str, int]:
        ((decl_rev, op_rev),) = _LATEST.rows(session.connection())
        return {_DECLARATION: int(decl_rev or 0), _OPERATION: int(op_rev or 0)}

    def _load(self, session: Session) -> None:
        """Read everything in force and build the first base (once per process)."""
        revs = self._max_revs(session)
        declared = session.execute(
            select(Declaration.id, Declaration.feature, Declaration.shadow).where(
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
            parsed = _stored(self.agreement, ((row[0], row[1]) for row in rows))
            objects.update(((source, obj.id), obj) for obj in parsed)
        for (_id, _feature, stored), obj in zip(
            declared, (objects[(_DECLARATION, row[0])] for row in declared), strict=True
        ):
            shadow = _shadow(self.agreement, obj, stored)
            if shadow is not None:
                objects[(_DECLARATION, shadow.id)] = shadow
        self._live_features = {i: _digest(f) for i, f in operations}
        self._base = _Base(revs, objects, DeconflictionIndex(self.agreement, objects.values()))
        self._generation += 1
        self._runs = ()
        self._seen = dict(revs)
        self._tail = {}
        self._tail_dirty = True
        self.stats.full_loads += 1

    def _catch_up(self, session: Session) -> None:
        """Read the rows changed since the last check into the tail: one cheap statement
        (the two counters) when nothing changed, one more per table that changed."""
        connection = session.connection()
        latest = self._max_revs(session)
        for source, since, live in (
            (_DECLARATION, _DECLARATIONS_SINCE, _ACTIVE),
            (_OPERATION, _OPERATIONS_SINCE, LIVE),
        ):
            if latest[source] <= self._seen[source]:
                continue
            rows = since.rows(connection, {"after": self._seen[source]})
            for object_id, rev, status, feature, *hidden in rows:
                obj: Declared | None = None
                if source == _OPERATION:
                    digest = _digest(feature)
                    if status in live and self._live_features.get(object_id) == digest:
                        self._seen[source] = max(self._seen[source], int(rev))
                        continue  # the same object, still in the world
                    if status in live:
                        self._live_features[object_id] = digest
                    else:
                        self._live_features.pop(object_id, None)
                    expected = self._expected.pop(object_id, None)
                    if expected is not None and expected[0] == digest and status in live:
                        obj = expected[1]  # as the unit of work stored it: not read again
                if obj is None and status in live:
                    obj = _stored(self.agreement, [(object_id, feature)])[0]
                self._tail[(source, object_id)] = _Change(int(rev), obj, _vertices(obj))
                hidden_now = obj is not None and obj.disclosure is Disclosure.CENTER
                if hidden and (hidden[0] == Disclosure.CENTER.value or hidden_now):  # its shadow
                    shadow = _shadow(self.agreement, obj, hidden[1])
                    key = (source, SHADOW_PREFIX + object_id)
                    self._tail[key] = _Change(int(rev), shadow, _vertices(shadow))
                self._seen[source] = max(self._seen[source], int(rev))
                self._tail_dirty = True

    # --- folding and merging (snapshots and installs under the lock) ------------------------

    def _top_revs(self) -> Mapping[str, int]:
        """The counters the newest run (or the base) is as of."""
        if self._runs:
            return self._runs[-1].revs
        assert self._base is not None
        return self._base.revs

    def _runs_weight(self) -> tuple[int, int]:
        """The runs' changes and vertices together (an object changed in two runs counts
        twice: an overestimate, which only merges a little sooner)."""
        return sum(len(r.changes) for r in self._runs), sum(r.vertices for r in self._runs)

    def _fold_snapshot(self) -> tuple[int, dict[str, int], Changes]:
        return self._generation, dict(self._seen), dict(self._tail)

    def _install_fold(
        self,
        generation: int,
        revs: dict[str, int],
        changes: Changes,
        index: DeconflictionIndex | None,
    ) -> None:
        top = self._top_revs()
        if generation != self._generation or any(
            revs[s] < top[s] for s in revs
        ):  # built on a replaced base, or older than the newest run
            self.stats.dropped += 1
            return
        self._runs = (*self._runs, _Layer(revs, changes, index, _weight(changes)))
        self._tail = {k: c for k, c in self._tail.items() if c.rev > revs[k[0]]}
        self._tail_dirty = True
        self.stats.folds += 1

    def _compaction(self) -> tuple[int, _Layer, _Layer] | None:
        """The newest pair of neighbouring runs to compact (the older weighs less than
        :data:`_COMPACT_RATIO` times the newer), as (generation, older, newer); or None."""
        runs = self._runs
        for i in range(len(runs) - 2, -1, -1):
            if runs[i].weight < _COMPACT_RATIO * runs[i + 1].weight:
                return self._generation, runs[i], runs[i + 1]
        return None

    def _install_compaction(
        self, generation: int, older: _Layer, newer: _Layer, merged: _Layer
    ) -> None:
        runs = self._runs
        for i in range(len(runs) - 1):
            if generation == self._generation and runs[i] is older and runs[i + 1] is newer:
                self._runs = (*runs[:i], merged, *runs[i + 2 :])
                self.stats.compactions += 1
                return
        self.stats.dropped += 1  # the runs were merged into a new base meanwhile

    def _compacted(self, older: _Layer, newer: _Layer) -> _Layer:
        """One run holding both (the newer version of an object changed in both)."""
        changes = dict(older.changes)
        changes.update(newer.changes)
        index = _index(self.agreement, changes.values())
        return _Layer(newer.revs, changes, index, _weight(changes))

    def _merge_snapshot(self) -> tuple[dict[str, int], dict[Key, Declared]]:
        assert self._base is not None
        objects = dict(self._base.objects)
        for layer in (*(r.changes for r in self._runs), self._tail):
            for key, change in layer.items():
                if change.obj is None:
                    objects.pop(key, None)
                else:
                    objects[key] = change.obj
        return dict(self._seen), objects

    def _install_merge(
        self, revs: dict[str, int], objects: dict[Key, Declared], index: DeconflictionIndex
    ) -> None:
        assert self._base is not None
        if any(revs[s] < self._base.revs[s] for s in revs):  # overtaken by a burst merge
            self.stats.dropped += 1
            return
        # Changes after the new base move back to the tail (newest version per object).
        tail: Changes = {}
        for layer in (*(r.changes for r in self._runs), self._tail):
            tail.update((k, c) for k, c in layer.items() if c.rev > revs[k[0]])
        self._base = _Base(revs, objects, index)
        self._generation += 1
        self._runs = ()
        self._tail = tail
        self._tail_dirty = True
        self.stats.merges += 1

    def _fold(self) -> None:
        """Fold the tail into a new run, then compact runs while some pair asks for it."""
        if not self.background:
            generation, revs, changes = self._fold_snapshot()
            self._install_fold(generation, revs, changes, _index(self.agreement, changes.values()))
            while (pair := self._compaction()) is not None:
                self._install_compaction(*pair, self._compacted(pair[1], pair[2]))
            return
        if self._folding is not None and self._folding.is_alive():
            return
        generation, revs, changes = self._fold_snapshot()

        def work() -> None:
            try:
                index = _index(self.agreement, changes.values())
                with self._lock:
                    self._install_fold(generation, revs, changes, index)
                    pair = self._compaction()
                while pair is not None:
                    merged = self._compacted(pair[1], pair[2])
                    with self._lock:
                        self._install_compaction(*pair, merged)
                        pair = self._compaction()
            except Exception:  # pragma: no cover - the next check tries again
                _log.exception("folding the deconfliction tail failed")

        self._folding = threading.Thread(target=work, name="accord-world-fold", daemon=True)
        self._folding.start()

    def _merge(self, *, now: bool = False) -> None:
        revs, objects = self._merge_snapshot()
        if now or not self.background:
            self._install_merge(revs, objects, DeconflictionIndex(self.agreement, objects.values()))
            return
        if self._merging is not None and self._merging.is_alive():
            return

        def work() -> None:
            try:
                index = DeconflictionIndex(self.agreement, objects.values())
            except Exception:  # pragma: no cover - the next check tries again
                _log.exception("merging the deconfliction index failed")
                return
            with self._lock:
                self._install_merge(revs, objects, index)

        self._merging = threading.Thread(target=work, name="accord-world-merge", daemon=True)
        self._merging.start()

    def _tail_view(self) -> DeconflictionIndex | None:
        if self._tail_dirty:
            self._tail_index = _index(self.agreement, self._tail.values())
            self._tail_dirty = False
            self.stats.tail_builds += self._tail_index is not None
        return self._tail_index

    # --- asking -----------------------------------------------------------------------------

    def expect(self, operation: Operation, feature: str) -> None:
        """``operation`` is being stored with this ``feature`` text: when the row comes back
        with that text, the next catch-up takes the object as it is instead of reading the
        text again. (A unit rolled back leaves an expectation no row meets; a row whose text
        differs is read as usual.)"""
        with self._lock:
            if len(self._expected) >= _EXPECTED_MAX:
                self._expected.clear()
            self._expected[operation.id] = (_digest(feature), operation)

    def prepare(self, session: Session) -> None:
        """Load the world now (at start-up) rather than on the first check."""
        with self._lock:
            if self._base is None:
                self._load(session)

    def check(self, session: Session, operation: Operation) -> tuple[Conflict, ...]:
        """Every conflict of ``operation`` with the world in force as ``session`` sees it
        (the operation itself, if it is in the world, excluded), as its proposer is answered:
        another party's hidden objects from their shadows, in
        :func:`~accord.deconfliction.hidden.answer_order`."""
        return self.check_seen(session, operation)[0]

    def check_seen(
        self, session: Session, operation: Operation
    ) -> tuple[tuple[Conflict, ...], int]:
        """:meth:`check`, and the declarations' counter of the world it checked against:
        while the counter stays there, so does every conflict with a declaration."""
        layers = self._layers(session)
        found = layers.found(operation)
        proposer = operation.proposed_by
        answered = answer(found, proposer=proposer)
        return tuple(sorted(answered, key=answer_order(proposer))), layers.declarations_seen

    def check_exact(self, session: Session, areas: Iterable[Operation]) -> list[Conflict]:
        """Every true conflict of each of ``areas`` with the world in force (the world caught
        up once for all of them): exact objects only, no shadow's hit, for the center to cut
        for each viewer (:mod:`accord.center.checks`), never to answer a proposer with."""
        layers = self._layers(session)
        out: list[Conflict] = []
        for area in areas:
            out.extend(c for c in layers.found(area) if not _is_shadow(c))
        return out

    def _layers(self, session: Session) -> _Layers:
        """The layers to ask, caught up with what ``session`` sees."""
        with self._lock:
            if self._base is None:
                self._load(session)
            self._catch_up(session)
            if len(self._tail) > self.merge_after or _weight(self._tail) > self.merge_vertices:
                # A burst (a bulk load since the last check): one merge now, rather than a
                # tail index as large as a base.
                self._merge(now=True)
            else:
                changed, vertices = self._runs_weight()
                if changed > self.merge_after or vertices > self.merge_vertices:
                    self._merge()
            if len(self._tail) > self.fold_after or _weight(self._tail) > self.fold_vertices:
                self._fold()
            base = self._base
            assert base is not None
            self.stats.checks += 1
            return _Layers(
                base,
                self._runs,
                frozenset(self._tail),
                self._tail_view(),
                self._seen[_DECLARATION],
            )

    def close(self) -> None:
        """Wait for background folds and merges to finish (at shut-down, in tests)."""
        for worker in (self._folding, self._merging):
            if worker is not None:
                worker.join()
