"""Operations in the service: proposals checked against the world in force, their life
cycle under the agreement's rules, and the record entries and live events of each change.

Every change runs in one unit of work (:func:`accord.center.http.writes.write`): the rules judge
the step (:mod:`accord.rules.operations`, pure), the row keeps the new state
(:mod:`accord.center.operations.state`), the acting party signs one record entry
(:mod:`accord.center.operations.entries`), and one live event per audience announces it —
all committed together or not at all. What each reader may see of an operation is
:mod:`accord.center.operations.queries`'.

Disclosure. Operations are notified to every party, so an operation is always ``shared``.
Its conflicts are not: the row keeps them unredacted (the center sees everything); the
record, read by every party and monitor, gets them cut for a reader who owns nothing
(:func:`~accord.center.operations.entries.public`); each party's live event gets them cut
for that party, and the monitors' event for the monitors.

Deconfliction. The service's desk (:mod:`accord.center.operations.desk`) answers each
proposal and amendment; the check runs before the unit writes anything, so it reads the
committed world. What is declared after a proposal counts too: before an approval or an
execution the center checks the operation again (:func:`recheck`), and a changed set of
blocking conflicts is the center's own signed step, which withdraws approvals given against
fewer conflicts.

Amendments change the area only (geometry, radius, uncertainty, name) and only before
another party approved it: the category, the executors and the window are what the others
approved or were notified of, and changing them is a new proposal.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from accord.agreement import Agreement
from accord.center import visibility
from accord.center.checks import service as checks
from accord.center.db.fast import Prepared
from accord.center.db.models import Opening
from accord.center.db.models_operations import OperationRow
from accord.center.disclosure import probing
from accord.center.event_store import publish_all
from accord.center.identity import Caller
from accord.center.operations.desk import Desk, desk
from accord.center.operations.entries import (
    ACTIONS,
    AMENDED,
    CENTER,
    CHECKED,
    CONFLICTS_UPDATED,
    EVIDENCE_CHECKED,
    PROPOSED,
    REPORTED,
    Actor,
    entry_of,
    public,
    record,
)
from accord.center.operations.queries import (
    OperationView,
    conflicts_of,
    existing_row,
    load_row,
    view_of,
)
from accord.center.operations.state import decode_state, encode_state
from accord.center.operations.world_cache import parse_features
from accord.center.phases.service import confirmations
from accord.center.runtime import Unit
from accord.chrono import format_instant, parse_instant
from accord.deconfliction import Conflict
from accord.deconfliction.conflicts import as_seen_by
from accord.errors import IllegalTransition, InputError, Issue, NotAuthorized
from accord.record.canonical import canonical_json, encode_base64
from accord.record.commitments import SALT_BYTES, commitment
from accord.rules import operations as rules
from accord.rules.operations import PENDING, OperationState
from accord.world import Disclosure, Operation, resolve_mgrs

__all__ = [
    "FEATURE_MAX_BYTES",
    "amend",
    "amendable",
    "breaches_json",
    "conflicts_json",
    "insert_row",
    "judge_step",
    "keeps_fixed",
    "new_id",
    "propose",
    "recheck",
    "report",
    "step",
    "stored_feature",
    "update_row",
]


def new_id() -> str:
    """A fresh operation id: ``op-`` and 16 random hex digits."""
    return "op-" + secrets.token_hex(8)


def conflicts_json(conflicts: Sequence[Conflict]) -> str:
    """The ``operations.conflicts`` column's text of ``conflicts`` (unredacted)."""
    return json.dumps(
        [
            {
                "kind": c.kind.value,
                "with": c.with_id,
                "party": c.party,
                "distance_m": c.distance_m,
                "threshold_m": c.threshold_m,
                "blocking": c.blocking,
                "disclosure": c.disclosure.value,
                "stale": c.stale,
                **({"margin": True} if c.margin else {}),
            }
            for c in conflicts
        ],
        separators=(",", ":"),
    )


_operations = cast(Table, OperationRow.__table__)
_NEXT_REV = select(func.coalesce(func.max(_operations.c.rev), 0) + 1).scalar_subquery()
"""The next value of the operations' counter, computed by the statement that takes it."""
_INSERT = Prepared(insert(_operations).values(rev=_NEXT_REV))
_SEEN = Prepared(
    update(_operations)
    .where(_operations.c.id == bindparam("b_id"))
    .values(conflicts_seen=bindparam("seen"))
)
"""The stored blocking conflicts stand at a later counter (nothing else changes)."""
_UPDATE = Prepared(
    update(_operations).where(_operations.c.id == bindparam("b_id")).values(rev=_NEXT_REV)
)


def stored_feature(feature: Mapping[str, Any]) -> str:
    """The ``operations.feature`` column's text of ``feature``: compact, keys sorted, so
    that the feature a record entry carries (canonical: keys sorted) is stored as the same
    text (:mod:`accord.center.operations.redo`)."""
    return json.dumps(feature, separators=(",", ":"), sort_keys=True)


def new_row(
    operation: Operation,
    state: OperationState,
    feature: Mapping[str, Any],
    conflicts: Sequence[Conflict],
    *,
    at: datetime,
    entry: int,
    seen: int | None,
) -> dict[str, Any]:
    """The row of an operation proposed or reported at ``at`` in entry ``entry`` (every
    column but ``rev``: :func:`insert_row` takes it), for the service and its redo."""
    return {
        "id": operation.id,
        "category": operation.category,
        "proposed_by": operation.proposed_by,
        "status": state.status.value,
        "version": 1,
        "feature": stored_feature(feature),
        "state": encode_state(state),
        "conflicts": conflicts_json(conflicts),
        "blocking": state.blocking_conflicts,
        "proposed_at": at,
        "updated_at": at,
        "entry": entry,
        "conflicts_seen": seen,
    }


def insert_row(connection: Connection, values: Mapping[str, Any]) -> None:
    """Insert an operation's row (``values``: every column but ``rev``), the operations'
    counter taken in the same statement."""
    _INSERT.execute(connection, values)


def update_row(connection: Connection, op_id: str, values: Mapping[str, Any]) -> None:
    """Change operation ``op_id``'s row (``values``: the columns that change), the
    operations' counter taken in the same statement."""
    _UPDATE.execute(connection, {"b_id": op_id, **values})


def breaches_json(state: OperationState) -> list[dict[str, Any]]:
    """The breaches of ``state`` as a report's record entry carries them."""
    return [
        {"kind": b.kind, "party": b.party, "at": format_instant(b.at), "detail": b.detail}
        for b in state.breaches
    ]


FEATURE_MAX_BYTES = 48_000
"""The most bytes of canonical JSON an operation's feature takes. Its proposal's (amendment's,
report's) record entry carries it in clear with the conflicts as every reader may see them,
and every entry is at most 65,535 bytes (DECISIONS 12; the C2SP tlog-tiles bundles' uint16
length): the rest is for the steps, the act, the envelope and the conflicts — those that do
not fit (conflicts with hundreds of objects) continue in the center's entries right after it
(:func:`~accord.center.operations.entries.split`), so no number of conflicts refuses an
operation, at its proposal or at the center's recheck before approval or execution."""


# --- reading the request --------------------------------------------------------------------


def _feature(
    op_id: str, member: str, geometry: Mapping[str, Any] | None, properties: Mapping[str, Any]
) -> dict[str, Any]:
    """The stored form of a proposed feature: the server's id, the caller's party."""
    props = {k: v for k, v in properties.items() if v is not None}
    executor = props.pop("executor", None)
    executors = props.pop("executors", None)
    if executor is not None and executors is not None:
        raise InputError(
            "request", [Issue("properties.executors", "give executor or executors, not both")]
        )
    chosen = executor if executor is not None else executors
    props.update(
        kind="operation",
        id=op_id,
        declared_by=member,
        proposed_by=member,
        executor=[chosen] if isinstance(chosen, str) else chosen,
        disclosure=props.get("disclosure", "shared"),
    )
    return {
        "type": "Feature",
        "geometry": None if geometry is None else dict(geometry),
        "properties": props,
    }


def _operation(agreement: Agreement, feature: dict[str, Any]) -> Operation:
    """Read the feature as the world reads it; bad fields are a 422 naming each one. A
    point typed as ``properties.mgrs`` becomes the feature's geometry, as stored
    (:func:`~accord.world.resolve_mgrs`)."""
    try:
        feature.update(resolve_mgrs(feature, agreement, source="request"))
        (obj,) = parse_features(agreement, [feature])
    except InputError as error:
        raise InputError("request", [Issue(i.field, i.message) for i in error.issues]) from None
    assert isinstance(obj, Operation)
    if obj.disclosure is not Disclosure.SHARED:
        raise InputError(
            "request",
            [Issue("properties.disclosure", "operations are notified to every party: 'shared'")],
        )
    # Keep the geometry as read: longitude and latitude as floats, nothing else (a stray
    # third value, an integer beyond what every JSON reader agrees on, never reaches the
    # record).
    feature["geometry"] = _geometry_json(obj)
    size = len(canonical_json(feature))
    if size > FEATURE_MAX_BYTES:
        in_geometry = len(canonical_json(feature["geometry"]))
        field = "geometry.coordinates" if 2 * in_geometry > size else "properties"
        raise InputError(
            "request",
            [
                Issue(
                    field,
                    f"the operation takes {size} bytes in the record, where an operation "
                    f"takes at most {FEATURE_MAX_BYTES} (a record entry is at most 64 KiB): "
                    "fewer positions or shorter properties",
                )
            ],
        )
    return obj


def _geometry_json(obj: Operation) -> dict[str, Any]:
    geometry = obj.geometry
    if geometry.geom_type == "Point":
        return {"type": "Point", "coordinates": [float(geometry.x), float(geometry.y)]}
    rings = [geometry.exterior, *geometry.interiors]
    return {
        "type": "Polygon",
        "coordinates": [[[float(x), float(y)] for x, y, *_ in ring.coords] for ring in rings],
    }


# --- writing --------------------------------------------------------------------------------


def _announce(
    unit: Unit,
    agreement: Agreement,
    *,
    kind: str,
    at: datetime,
    state: OperationState,
    actor: str,
    conflicts: Sequence[Conflict],
    entry: int,
) -> None:
    audiences = list(visibility.conflict_audiences(agreement))
    seen = as_seen_by(conflicts, [viewer for _, viewer in audiences])
    publish_all(
        unit.session,
        kind=kind,
        at=at,
        each=[
            (
                audience,
                {
                    "id": state.id,
                    "category": state.category,
                    "status": state.status.value,
                    "actor": actor,
                    "entry": entry,
                    "blocking_conflicts": state.blocking_conflicts,
                    "conflicts": conflicts_seen,
                },
            )
            for (audience, _), conflicts_seen in zip(audiences, seen, strict=True)
        ],
    )


def _create(
    unit: Unit,
    desk_: Desk,
    caller: Caller,
    at: datetime,
    *,
    kind: str,
    operation: Operation,
    feature: dict[str, Any],
    conflicts: tuple[Conflict, ...],
    seen: int,
    state: OperationState,
    **fields: Any,
) -> OperationView:
    session = unit.session
    entry = record(
        unit,
        Actor.of(caller),
        at,
        kind,
        state,
        None,
        feature=feature,
        conflicts=[public(c).as_dict() for c in conflicts],
        **fields,
    )
    values = new_row(operation, state, feature, conflicts, at=at, entry=entry, seen=seen)
    insert_row(session.connection(), values)  # the counter taken in the same statement
    desk_.world.expect(operation, values["feature"])
    row = OperationRow(**values)
    _announce(
        unit,
        desk_.agreement,
        kind=kind,
        at=at,
        state=state,
        actor=caller.member,
        conflicts=conflicts,
        entry=entry,
    )
    viewer = visibility.conflict_viewer(caller)
    return view_of(row, viewer, at, desk_.agreement, stored=(state, conflicts))


def _touch(
    unit: Unit,
    desk_: Desk,
    caller: Caller,
    operation: Operation,
    conflicts: Sequence[Conflict],
    at: datetime,
    *,
    may_refuse: bool,
) -> None:
    """Count what the caller's operation touched of other parties' hidden objects
    (:func:`accord.center.disclosure.probing.account`): before anything of it is written."""
    probing.account(
        unit,
        desk_.agreement,
        prober=caller.member,
        operation=operation,
        conflicts=conflicts,
        at=at,
        may_refuse=may_refuse,
    )


def propose(
    unit: Unit,
    caller: Caller,
    *,
    geometry: Mapping[str, Any] | None,
    properties: Mapping[str, Any],
    at: datetime,
) -> OperationView:
    """Propose a coordinated operation or notify a synchronized one for the caller's party:
    check it against the world, let the rules judge it with its blocking conflicts, keep it,
    record it and announce it."""
    desk_ = desk(unit.center)
    feature = _feature(new_id(), caller.member, geometry, properties)
    operation = _operation(desk_.agreement, feature)
    conflicts, seen = desk_.world.check_seen(unit.session, operation)
    _touch(unit, desk_, caller, operation, conflicts, at, may_refuse=True)
    blocking = sum(1 for c in conflicts if c.blocking)
    state = rules.propose(
        desk_.agreement,
        operation,
        at=at,
        confirmations=confirmations(unit.session),
        blocking_conflicts=blocking,
    )
    return _create(
        unit,
        desk_,
        caller,
        at,
        kind=PROPOSED,
        operation=operation,
        feature=feature,
        conflicts=conflicts,
        seen=seen,
        state=state,
    )


def report(
    unit: Unit,
    caller: Caller,
    *,
    geometry: Mapping[str, Any] | None,
    properties: Mapping[str, Any],
    executed_at: datetime,
    at: datetime,
) -> OperationView:
    """The caller's party reports an imminent-threat operation it executed: the rules judge
    the notice (late is a breach); its conflicts are kept for the record of what it met."""
    desk_ = desk(unit.center)
    feature = _feature(new_id(), caller.member, geometry, properties)
    operation = _operation(desk_.agreement, feature)
    conflicts, seen = desk_.world.check_seen(unit.session, operation)
    # Counted, never refused: a report after the fact always stands.
    _touch(unit, desk_, caller, operation, conflicts, at, may_refuse=False)
    state = rules.report_imminent(
        desk_.agreement,
        operation,
        executed_at=executed_at,
        at=at,
        confirmations=confirmations(unit.session),
    )
    return _create(
        unit,
        desk_,
        caller,
        at,
        kind=REPORTED,
        operation=operation,
        feature=feature,
        conflicts=conflicts,
        seen=seen,
        state=state,
        executed_at=format_instant(executed_at),
        breaches=breaches_json(state),
    )


def _save(
    unit: Unit,
    desk_: Desk,
    actor: Actor,
    row: OperationRow,
    *,
    kind: str,
    before: OperationState,
    state: OperationState,
    at: datetime,
    changed: Mapping[str, Any] | None = None,
    **fields: Any,
) -> OperationView:
    """Record the step, then store it: one UPDATE of the row (``changed``: other columns
    that change with it), the counter taken in the same statement."""
    entry = record(unit, actor, at, kind, state, before, **fields)
    values = {
        **(changed or {}),
        "status": state.status.value,
        "state": encode_state(state),
        "blocking": state.blocking_conflicts,
        "updated_at": at,
        "entry": entry,
    }
    update_row(unit.session.connection(), row.id, values)
    for name, value in values.items():  # the row as stored (detached: never flushed)
        set_committed_value(row, name, value)
    conflicts = conflicts_of(row.conflicts, row.id)
    _announce(
        unit,
        desk_.agreement,
        kind=kind,
        at=at,
        state=state,
        actor=actor.member,
        conflicts=conflicts,
        entry=entry,
    )
    return view_of(row, actor.member, at, desk_.agreement, stored=(state, conflicts))


_FIXED = ("category", "executor", "window_start", "window_end")


def amend(
    unit: Unit,
    caller: Caller,
    op_id: str,
    *,
    geometry: Mapping[str, Any] | None,
    properties: Mapping[str, Any],
    at: datetime,
) -> OperationView:
    """The proposing party changes a pending operation's area (geometry, radius,
    uncertainty, name); the engine runs again and the rules take the new blocking count
    (:func:`accord.rules.operations.update_conflicts`).

    The category, executors and window are what the other parties approved or were given
    notice of: changing them is a new proposal (cancel this one). A coordinated operation
    another party has already approved is not amended either: that approval was given for
    the area as it was.
    """
    desk_ = desk(unit.center)
    session = unit.session
    row = existing_row(session, op_id)
    before = decode_state(row.state)
    amendable(desk_.agreement, row, before, caller.member, at)
    feature = _feature(op_id, caller.member, geometry, properties)
    operation = _operation(desk_.agreement, feature)
    keeps_fixed(row, feature)
    conflicts, seen = desk_.world.check_seen(session, operation)
    _touch(unit, desk_, caller, operation, conflicts, at, may_refuse=True)
    blocking = sum(1 for c in conflicts if c.blocking)
    state = rules.update_conflicts(
        desk_.agreement, before, actor=caller.member, at=at, blocking_conflicts=blocking
    )
    version = row.version + 1
    changed = {
        "feature": stored_feature(feature),
        "conflicts": conflicts_json(conflicts),
        "conflicts_seen": seen,
        "version": version,
    }
    view = _save(
        unit,
        desk_,
        Actor.of(caller),
        row,
        kind=AMENDED,
        before=before,
        state=state,
        at=at,
        changed=changed,
        feature=feature,
        version=version,
        conflicts=[public(c).as_dict() for c in conflicts],
    )
    _check_amended(unit, desk_, operation, version, at)
    return view


def amendable(
    agreement: Agreement, row: OperationRow, before: OperationState, member: str, at: datetime
) -> None:
    """Refuse (:class:`~accord.errors.NotAuthorized`, :class:`~accord.errors.
    IllegalTransition`) an amendment by ``member`` of the operation ``row`` (its state
    ``before``) at ``at``: only its proposer amends it, while it is pending and no other
    party approved it."""
    op_id = row.id
    if member != before.proposed_by:
        raise NotAuthorized(
            f"{member!r} cannot amend operation {op_id!r}: only its proposer "
            f"{before.proposed_by!r} may amend it"
        )
    settled = rules.settle(agreement, before, at=at)
    if settled.status not in PENDING:
        raise IllegalTransition(
            f"{member!r} cannot amend operation {op_id!r}: it is "
            f"{settled.status.value.replace('_', ' ')}"
        )
    others = sorted(settled.approvals - {settled.proposed_by})
    if others:
        raise IllegalTransition(
            f"{member!r} cannot amend operation {op_id!r}: {', '.join(others)} approved "
            "it as proposed; cancel it and propose the new area"
        )


def keeps_fixed(row: OperationRow, feature: Mapping[str, Any]) -> None:
    """Refuse (:class:`~accord.errors.InputError`) an amended ``feature`` of the operation
    ``row`` that changes what an amendment may not: its category, executors or window."""
    old = json.loads(row.feature)["properties"]
    issues = [
        Issue(f"properties.{name}", "cannot change in an amendment; propose a new operation")
        for name in _FIXED
        if _same(name, feature["properties"].get(name)) != _same(name, old.get(name))
    ]
    if issues:
        raise InputError("request", issues)


def _check_amended(
    unit: Unit, desk_: Desk, operation: Operation, version: int, at: datetime
) -> None:
    """The amended area checked for every party as received coordinates are
    (:mod:`accord.center.checks`): each party shown, by name and distance, the shared
    objects and its own (hidden ones included) within the agreement's distances of the new
    area in its window, nothing of another's hidden objects; the center's
    ``operation.checked`` entry holds a commitment per party, of one size whatever was
    found, and each party's live event its own view."""
    parties = sorted(desk_.agreement.party_ids)
    views = checks.check(
        unit,
        desk_.world,
        None,
        subject=operation.id,
        about="operation",
        parties=parties,
        at=at,
        extra={"version": version},
        area=operation,
    )
    checks.record_and_tell(unit, entry_of(CHECKED), operation.id, views, at=at, version=version)


def _same(name: str, value: Any) -> Any:
    """A property's value compared across an amendment (instants by their meaning)."""
    if name.startswith("window_") and isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return tuple(value)
    return value


def step(
    unit: Unit,
    caller: Caller,
    op_id: str,
    action: str,
    *,
    at: datetime,
    text: str | None = None,
    geometry: Mapping[str, Any] | None = None,
) -> OperationView:
    """One step of the life cycle by the caller's party: ``approve`` (``text``: an override
    reason), ``veto`` (reason), ``object`` (evidence; ``geometry``: coordinates given with
    it, read by :func:`accord.center.checks.geometry.check_geometry`), ``withdraw_objection``,
    ``execute``, ``complete`` or ``cancel`` (reason)."""
    desk_ = desk(unit.center)
    who = caller.member
    row = existing_row(unit.session, op_id)
    before = decode_state(row.state)
    state, fields = judge_step(desk_.agreement, before, action, actor=who, at=at, text=text)
    evidence: _Evidence | None = None
    if action == "object" and geometry is not None:
        evidence = _Evidence.of(op_id, who, geometry)
        fields["evidence_geometry"] = encode_base64(evidence.committed)
    view = _save(
        unit,
        desk_,
        Actor.of(caller),
        row,
        kind=ACTIONS[action],
        before=before,
        state=state,
        at=at,
        **fields,
    )
    if evidence is not None:
        evidence.checked(unit, desk_, view.entry, at)
    return view


def judge_step(
    agreement: Agreement,
    before: OperationState,
    action: str,
    *,
    actor: str,
    at: datetime,
    text: str | None,
) -> tuple[OperationState, dict[str, Any]]:
    """The rules' judgement of step ``action`` (:func:`step`) by party ``actor`` at ``at``
    from state ``before`` (``text``: the override reason, veto or cancel reason, or
    evidence): the new state, and the fields its record entry carries besides the step's
    (an objection's ``evidence_geometry`` aside)."""
    a, who = agreement, actor
    fields: dict[str, Any] = {}
    if action == "approve":
        state = rules.approve(a, before, actor=who, at=at, override_reason=text)
        if state.overrides and state.overrides != before.overrides:
            fields["override_reason"] = state.overrides[-1].reason
    elif action == "veto":
        state = rules.veto(a, before, actor=who, at=at, reason=text or "")
        fields["reason"] = state.veto_reason
    elif action == "object":
        state = rules.object_to(a, before, actor=who, at=at, evidence=text or "")
        fields["evidence"] = state.objections[-1].evidence
    elif action == "withdraw_objection":
        state = rules.withdraw_objection(a, before, actor=who, at=at)
    elif action == "execute":
        state = rules.execute(a, before, actor=who, at=at)
    elif action == "complete":
        state = rules.complete(a, before, actor=who, at=at)
    elif action == "cancel":
        state = rules.cancel(a, before, actor=who, at=at, reason=text or "")
        fields["reason"] = state.cancel_reason
    else:  # pragma: no cover - the routes name only these
        raise ValueError(action)
    return state, fields


@dataclass(frozen=True, slots=True)
class _Evidence:
    """Coordinates an objection gives as evidence: committed to in the objection's entry
    (the record never holds them), opened to its objector, checked for every party."""

    operation: str
    party: str
    geometry: dict[str, Any]
    salt: bytes
    committed: bytes

    @classmethod
    def of(cls, op_id: str, party: str, geometry: Mapping[str, Any]) -> _Evidence:
        content = {"operation": op_id, "party": party, "geometry": dict(geometry)}
        salt = secrets.token_bytes(SALT_BYTES)
        return cls(op_id, party, dict(geometry), salt, commitment(content, salt=salt))

    def checked(self, unit: Unit, desk_: Desk, entry: int, at: datetime) -> None:
        """Keep the opening (owner: the objector), check the coordinates for every party
        — each shown them, and the shared objects and its own near them, nothing of
        another's hidden objects — and write the center's ``operation.evidence_checked``
        entry (a commitment per party, one size whatever was found) and each party's
        event."""
        content = {"operation": self.operation, "party": self.party, "geometry": self.geometry}
        unit.session.add(
            Opening(
                entry=entry,
                owner=self.party,
                commitment=self.committed,
                salt=self.salt,
                content=canonical_json(content).decode("utf-8"),
            )
        )
        parties = sorted(desk_.agreement.party_ids)
        views = checks.check(
            unit,
            desk_.world,
            self.geometry,
            subject=self.operation,
            about="objection",
            parties=parties,
            at=at,
            extra={"objection": entry, "by": self.party, "coordinates": self.geometry},
        )
        checks.record_and_tell(
            unit, entry_of(EVIDENCE_CHECKED), self.operation, views, at=at, objection=entry
        )


def _recheck(
    session: Session, desk_: Desk, row: OperationRow, at: datetime
) -> tuple[OperationState, tuple[Conflict, ...], int] | None:
    """The operation's conflicts with the world in force now, if its *blocking* conflicts
    differ from the stored ones and it is still pending (None otherwise). Warnings that
    came or went (another operation proposed nearby since) do not make a step of their own;
    they are stored with the next blocking change or amendment."""
    state = decode_state(row.state)
    if rules.settle(desk_.agreement, state, at=at).status not in PENDING:
        return None
    (operation,) = parse_features(desk_.agreement, [json.loads(row.feature)], limits=False)
    assert isinstance(operation, Operation)
    conflicts, seen = desk_.world.check_seen(session, operation)
    stored = conflicts_of(row.conflicts, row.id)
    if [c for c in conflicts if c.blocking] == [c for c in stored if c.blocking]:
        _SEEN.execute(session.connection(), {"b_id": row.id, "seen": seen})
        return None
    return state, conflicts, seen


def recheck(unit: Unit, op_id: str, at: datetime) -> bool:
    """Before a step that lets an operation go ahead (approve, execute), the center checks
    it again against the world in force: what was declared, amended or withdrawn since the
    proposal counts. When its conflicts changed, the center records the new ones (entry
    ``operation.conflicts_updated``, signed by the center under the record's origin) and
    the rules take the new blocking count
    (:func:`accord.rules.operations.update_conflicts`: more blocking conflicts withdraw the
    other parties' approvals). This is the center's own step, in its own unit of work, so
    that it stands even when the caller's step is then refused.

    Returns whether anything changed; records only on a change. When the agreement's
    operations never block one another and no declaration changed since the operation's
    blocking conflicts were last found (``operations.conflicts_seen``), nothing can have
    changed: one read answers (:meth:`~accord.center.operations.desk.Desk.unchanged`).
    """
    desk_, origin = desk(unit.center), unit.center.origin
    if desk_.unchanged(unit.session.connection(), op_id):
        return False
    row = load_row(unit.session, op_id)
    found = None if row is None else _recheck(unit.session, desk_, row, at)
    if row is None or found is None:
        return False
    before, conflicts, seen = found
    stored = conflicts_json(conflicts)
    state = rules.update_conflicts(
        desk_.agreement,
        before,
        actor=CENTER,
        at=at,
        blocking_conflicts=sum(1 for c in conflicts if c.blocking),
    )
    _save(
        unit,
        desk_,
        Actor(CENTER, origin, CENTER),
        row,
        kind=CONFLICTS_UPDATED,
        before=before,
        state=state,
        at=at,
        changed={"conflicts": stored, "conflicts_seen": seen},
        blocking_conflicts=state.blocking_conflicts,
        conflicts=[public(c).as_dict() for c in conflicts],
    )
    return True
