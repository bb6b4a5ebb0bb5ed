"""``/v1/operations``: Operations: proposal, approval, veto, objection, execution.

Who may do what (the rules then judge the step for the caller's party):

- officers of a party propose, amend (their own party's), object, withdraw their objection,
  execute and complete (their party must be an executor) and report imminent-threat
  operations after the fact;
- approvers of a party approve (with a written override reason while blocking conflicts
  stand) and veto coordinated operations;
- an officer or approver of the proposing party cancels;
- officers and approvers of every party and monitors read operations, each seeing conflicts
  with another party's ``center`` objects only as kind, party, distance and blocking;
  humanitarian notifiers and administrators see nothing of operations.

Before an approval or an execution the center checks the operation again against the world
in force (:func:`accord.center.operations.service.recheck`): a position declared since the proposal
counts.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.center import visibility
from accord.center.checks import service as checks
from accord.center.checks.geometry import check_geometry
from accord.center.checks.views import CheckOpeningOut, opening_out
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep, problem
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.operations import queries, service
from accord.center.operations.desk import desk
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.chrono import parse_instant
from accord.errors import InputError, Issue, NotFound
from accord.rules.operations import OperationStatus

router = APIRouter(prefix="/v1", tags=["operations"], responses=ERRORS)

Officer = Annotated[Caller, Depends(allow(Role.OFFICER))]
Approver = Annotated[Caller, Depends(allow(Role.APPROVER))]
PartyUser = Annotated[Caller, Depends(allow(Role.OFFICER, Role.APPROVER))]
Reader = Annotated[Caller, Depends(allow(*visibility.OPERATION_READERS))]
OpId = Annotated[str, Path(min_length=1, max_length=40, description="The operation's id")]

NOT_FOUND = problem(404, "No such operation")
_TEXT = 2000


# --- request bodies -------------------------------------------------------------------------


class GeometryIn(BaseModel):
    """A GeoJSON Point (with ``properties.radius_m``) or Polygon, lon/lat WGS84."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point", "Polygon"]
    coordinates: list[Any] = Field(max_length=10_000)


class OperationPropertiesIn(BaseModel):
    """An operation's properties as in the example world, without ``id``, ``declared_by``
    and ``proposed_by`` (the server's id, the caller's party). ``executor`` is a party id or
    a list of them (``executors`` is accepted too)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["operation"] = "operation"
    name: str | None = Field(default=None, max_length=200)
    category: str = Field(min_length=1, max_length=64)
    executor: str | list[str] | None = None
    executors: str | list[str] | None = None
    disclosure: Literal["shared"] | None = Field(
        default=None, description="Operations are notified to every party: always `shared`."
    )
    window_start: str = Field(max_length=64, description="ISO 8601 with offset")
    window_end: str = Field(max_length=64, description="ISO 8601 with offset")
    radius_m: float | None = Field(default=None, le=1_000_000, description="metres")
    uncertainty_m: float | None = Field(default=None, le=100_000, description="metres")
    mgrs: str | None = Field(
        default=None,
        max_length=100,
        description="The Point as an MGRS reference, in place of `geometry` (stored as the "
        "square's centre, `uncertainty_m` widened by its half-diagonal)",
    )


class OperationIn(BaseModel):
    """A GeoJSON Feature of kind ``operation``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    geometry: GeometryIn | None = None
    properties: OperationPropertiesIn


class ReportPropertiesIn(OperationPropertiesIn):
    """An imminent-threat operation's properties, with when it was executed."""

    executed_at: str = Field(max_length=64, description="ISO 8601 with offset")


class ReportIn(BaseModel):
    """A GeoJSON Feature of kind ``operation`` in an imminent-threat category."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    geometry: GeometryIn | None = None
    properties: ReportPropertiesIn


class ApproveIn(BaseModel):
    """An approval; while blocking conflicts stand it needs a written override reason."""

    model_config = ConfigDict(extra="forbid")

    override_reason: str | None = Field(default=None, max_length=_TEXT)


class ReasonIn(BaseModel):
    """Why (a veto, a cancellation)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=_TEXT)


class EvidenceIn(BaseModel):
    """The evidence behind an objection, and optionally where: exact coordinates (a GeoJSON
    ``Point``, ``MultiPoint``, ``LineString`` or ``Polygon``) that the center checks for
    every party as it checks coordinates passed over the direct line, and shows to the
    parties (never in the record: a commitment there)."""

    model_config = ConfigDict(extra="forbid")

    evidence: str = Field(min_length=1, max_length=_TEXT)
    geometry: dict[str, Any] | None = None


# --- responses ------------------------------------------------------------------------------


class ConflictOut(BaseModel):
    """A conflict as the caller may see it. For another party's ``center`` object, ``with``,
    ``distance_m``, ``disclosure`` and ``threshold_m`` are null: only kind, party and
    blocking. ``margin``: (to the object's owner) the conflict is with the hidden object's
    precision margin only, not with the object itself."""

    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    kind: str
    with_: str | None = Field(default=None, alias="with")
    party: str
    distance_m: float | None
    blocking: bool
    disclosure: str | None = None
    threshold_m: float | None = None
    stale: bool = False
    margin: bool = False


class TransitionOut(BaseModel):
    """One accepted step (actor ``clock``: the passage of time)."""

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    detail: str


class ObjectionOut(BaseModel):
    party: str
    at: datetime
    evidence: str
    withdrawn_at: datetime | None


class OverrideOut(BaseModel):
    party: str
    at: datetime
    reason: str


class BreachOut(BaseModel):
    kind: str
    party: str
    at: datetime
    detail: str


class OperationOut(BaseModel):
    """An operation with its state settled to now and its conflicts as the caller sees them."""

    id: str
    category: str
    rule: str
    status: str
    proposed_by: str
    executors: list[str]
    window_start: datetime
    window_end: datetime
    proposed_at: datetime
    updated_at: datetime
    version: int
    entry: int
    feature: dict[str, Any]
    approvals: list[str]
    waiting_for: list[str] = Field(
        description="Parties whose approval a proposed coordinated operation still needs"
    )
    objection_until: datetime | None = Field(
        description="When a synchronized operation's objection window closes"
    )
    notify_by: datetime | None = Field(
        description="When an imminent-threat operation's notification is (or was) due"
    )
    vetoed_by: str | None
    veto_reason: str | None
    objections: list[ObjectionOut]
    overrides: list[OverrideOut]
    blocking_conflicts: int
    executed_at: datetime | None
    executed_by: str | None
    completed_at: datetime | None
    notified_at: datetime | None
    cancel_reason: str | None
    history: list[TransitionOut]
    breaches: list[BreachOut]
    conflicts: list[ConflictOut]

    @classmethod
    def of(cls, view: queries.OperationView) -> OperationOut:
        s = view.state
        return cls(
            id=s.id,
            category=s.category,
            rule=s.rule.value,
            status=s.status.value,
            proposed_by=s.proposed_by,
            executors=list(s.executors),
            window_start=s.window_start,
            window_end=s.window_end,
            proposed_at=s.proposed_at,
            updated_at=view.updated_at,
            version=view.version,
            entry=view.entry,
            feature=view.feature,
            approvals=sorted(s.approvals),
            waiting_for=list(view.waiting_for),
            objection_until=view.objection_until,
            notify_by=view.notify_by,
            vetoed_by=s.vetoed_by,
            veto_reason=s.veto_reason,
            objections=[
                ObjectionOut(
                    party=o.party, at=o.at, evidence=o.evidence, withdrawn_at=o.withdrawn_at
                )
                for o in s.objections
            ],
            overrides=[OverrideOut(party=o.party, at=o.at, reason=o.reason) for o in s.overrides],
            blocking_conflicts=s.blocking_conflicts,
            executed_at=s.executed_at,
            executed_by=s.executed_by,
            completed_at=s.completed_at,
            notified_at=s.notified_at,
            cancel_reason=s.cancel_reason,
            history=[
                TransitionOut(
                    at=t.at,
                    actor=t.actor,
                    action=t.action,
                    from_status=None if t.from_status is None else t.from_status.value,
                    to_status=t.to_status.value,
                    detail=t.detail,
                )
                for t in s.history
            ],
            breaches=[
                BreachOut(kind=b.kind, party=b.party, at=b.at, detail=b.detail) for b in s.breaches
            ],
            conflicts=[ConflictOut.model_validate(c.as_dict()) for c in view.conflicts],
        )


class OperationsOut(BaseModel):
    """A page of operations, newest first; ``next_offset`` is null on the last page."""

    items: list[OperationOut]
    offset: int
    limit: int
    next_offset: int | None


# --- the works the writer runs (module functions: a writer process receives them pickled) --


def _propose(
    unit: Unit,
    *,
    caller: Caller,
    geometry: dict[str, Any] | None,
    properties: dict[str, Any],
    at: datetime,
) -> OperationOut:
    return OperationOut.of(
        service.propose(unit, caller, geometry=geometry, properties=properties, at=at)
    )


def _report(
    unit: Unit,
    *,
    caller: Caller,
    geometry: dict[str, Any] | None,
    properties: dict[str, Any],
    executed_at: datetime,
    at: datetime,
) -> OperationOut:
    view = service.report(
        unit,
        caller,
        geometry=geometry,
        properties=properties,
        executed_at=executed_at,
        at=at,
    )
    return OperationOut.of(view)


def _amend(
    unit: Unit,
    *,
    caller: Caller,
    op_id: str,
    geometry: dict[str, Any] | None,
    properties: dict[str, Any],
    at: datetime,
) -> OperationOut:
    view = service.amend(
        unit,
        caller,
        op_id,
        geometry=geometry,
        properties=properties,
        at=at,
    )
    return OperationOut.of(view)


def _recheck(unit: Unit, *, op_id: str, at: datetime) -> bool:
    return service.recheck(unit, op_id, at)


def _step_act(
    unit: Unit,
    *,
    caller: Caller,
    op_id: str,
    action: str,
    at: datetime,
    text: str | None,
    geometry: dict[str, Any] | None = None,
) -> OperationOut:
    view = service.step(unit, caller, op_id, action, at=at, text=text, geometry=geometry)
    return OperationOut.of(view)


# --- routes ---------------------------------------------------------------------------------


def _fields(body: OperationIn | ReportIn) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    geometry = None if body.geometry is None else body.geometry.model_dump()
    properties = body.properties.model_dump(exclude_none=True, exclude={"executed_at"})
    return geometry, properties


@router.post(
    "/operations",
    response_model=OperationOut,
    status_code=201,
    summary="Propose a coordinated or synchronized operation",
    responses=CONFLICT,
)
async def propose_operation(
    center: CenterDep, request: Request, caller: Officer, body: Annotated[OperationIn, Body()]
) -> JSONResponse:
    """Propose an operation for the caller's party. The deconfliction engine checks it
    against everything in force; blocking conflicts are counted by the rules (a coordinated
    operation then needs an approver's override reason; a synchronized one cannot be
    executed). The answer shows the conflicts as the caller may see them."""
    geometry, properties = _fields(body)
    act = partial(
        _propose, caller=caller, geometry=geometry, properties=properties, at=center.now()
    )
    return await write(center, request, caller, act, body=body)


@router.post(
    "/operations/report",
    response_model=OperationOut,
    status_code=201,
    summary="Report an imminent-threat operation after the fact",
    responses=CONFLICT,
)
async def report_operation(
    center: CenterDep, request: Request, caller: Officer, body: Annotated[ReportIn, Body()]
) -> JSONResponse:
    """The caller's party reports an imminent-threat operation it executed at
    ``properties.executed_at``. A report later than the category's ``notify_within`` is
    recorded as a late-notification breach."""
    now = center.now()
    geometry, properties = _fields(body)
    try:
        executed_at = parse_instant(body.properties.executed_at)
    except ValueError as error:
        raise InputError("request", [Issue("properties.executed_at", str(error))]) from None

    act = partial(
        _report,
        caller=caller,
        geometry=geometry,
        properties=properties,
        executed_at=executed_at,
        at=now,
    )
    return await write(center, request, caller, act, body=body)


@router.put(
    "/operations/{op_id}",
    response_model=OperationOut,
    summary="Amend a pending operation's area",
    responses=CONFLICT | NOT_FOUND,
)
async def amend_operation(
    center: CenterDep,
    request: Request,
    caller: Officer,
    op_id: OpId,
    body: Annotated[OperationIn, Body()],
) -> JSONResponse:
    """The proposing party changes the area of a pending operation; the engine runs again.
    The category, executors and window cannot change (propose a new operation), nor can a
    coordinated operation another party already approved."""
    geometry, properties = _fields(body)
    act = partial(
        _amend,
        caller=caller,
        op_id=op_id,
        geometry=geometry,
        properties=properties,
        at=center.now(),
    )
    return await write(center, request, caller, act, body=body, status=200)


async def _step(
    center: CenterDep,
    request: Request,
    caller: Caller,
    op_id: str,
    action: str,
    *,
    text: str | None = None,
    body: BaseModel | None = None,
    geometry: dict[str, Any] | None = None,
) -> JSONResponse:
    now = center.now()
    act = partial(
        _step_act, caller=caller, op_id=op_id, action=action, at=now, text=text, geometry=geometry
    )
    before = partial(_recheck, op_id=op_id, at=now) if action in _GO_AHEAD else None
    return await write(center, request, caller, act, body=body, status=200, before=before)


_STEP = CONFLICT | NOT_FOUND
_GO_AHEAD = frozenset({"approve", "execute"})
"""Steps before which the center checks the operation again against the world in force."""


@router.post(
    "/operations/{op_id}/approve",
    summary="Approve a coordinated operation",
    response_model=OperationOut,
    responses=_STEP,
)
async def approve_operation(
    center: CenterDep,
    request: Request,
    caller: Approver,
    op_id: OpId,
    body: Annotated[ApproveIn | None, Body()] = None,
) -> JSONResponse:
    """The caller's party approves. While blocking conflicts stand, approval needs a written
    ``override_reason``, which is recorded."""
    body = body or ApproveIn()
    return await _step(
        center, request, caller, op_id, "approve", text=body.override_reason, body=body
    )


@router.post(
    "/operations/{op_id}/veto",
    summary="Veto a coordinated operation",
    response_model=OperationOut,
    responses=_STEP,
)
async def veto_operation(
    center: CenterDep,
    request: Request,
    caller: Approver,
    op_id: OpId,
    body: Annotated[ReasonIn, Body()],
) -> JSONResponse:
    """The caller's party vetoes, with its reason; the operation ends."""
    return await _step(center, request, caller, op_id, "veto", text=body.reason, body=body)


@router.post(
    "/operations/{op_id}/object",
    summary="Object to a synchronized operation",
    response_model=OperationOut,
    responses=_STEP,
)
async def object_to_operation(
    center: CenterDep,
    request: Request,
    caller: Officer,
    op_id: OpId,
    body: Annotated[EvidenceIn, Body()],
) -> JSONResponse:
    """The caller's party objects with evidence within the objection window; where the
    category holds while objected, the operation is on hold. Coordinates given with the
    evidence are checked for every party (``GET /v1/operations/{op_id}/check``)."""
    geometry = None if body.geometry is None else check_geometry(body.geometry, source="request")
    return await _step(
        center, request, caller, op_id, "object", text=body.evidence, body=body, geometry=geometry
    )


@router.post(
    "/operations/{op_id}/withdraw-objection",
    summary="Withdraw an objection",
    response_model=OperationOut,
    responses=_STEP,
)
async def withdraw_objection(
    center: CenterDep, request: Request, caller: Officer, op_id: OpId
) -> JSONResponse:
    """The caller's party withdraws its standing objection."""
    return await _step(center, request, caller, op_id, "withdraw_objection")


@router.post(
    "/operations/{op_id}/execute",
    summary="Report an operation executed",
    response_model=OperationOut,
    responses=_STEP,
)
async def execute_operation(
    center: CenterDep, request: Request, caller: Officer, op_id: OpId
) -> JSONResponse:
    """An executing party reports the execution (approved or cleared, in its window)."""
    return await _step(center, request, caller, op_id, "execute")


@router.post(
    "/operations/{op_id}/complete",
    summary="Report an operation completed",
    response_model=OperationOut,
    responses=_STEP,
)
async def complete_operation(
    center: CenterDep, request: Request, caller: Officer, op_id: OpId
) -> JSONResponse:
    """An executing party reports the executed operation finished."""
    return await _step(center, request, caller, op_id, "complete")


@router.post(
    "/operations/{op_id}/cancel",
    summary="Cancel an operation",
    response_model=OperationOut,
    responses=_STEP,
)
async def cancel_operation(
    center: CenterDep,
    request: Request,
    caller: PartyUser,
    op_id: OpId,
    body: Annotated[ReasonIn, Body()],
) -> JSONResponse:
    """The proposing party withdraws its operation before execution, with its reason."""
    return await _step(center, request, caller, op_id, "cancel", text=body.reason, body=body)


@router.get(
    "/operations",
    response_model=OperationsOut,
    summary="List operations",
)
def list_operations(
    center: CenterDep,
    caller: Reader,
    status: Annotated[OperationStatus | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OperationsOut:
    """Operations newest first, their status settled to now (a filter on ``status`` applies
    to the settled status: an operation whose window passed is ``expired``)."""
    now = center.now()
    with center.reading() as session:
        page, more = queries.listing(
            session,
            desk(center),
            visibility.conflict_viewer(caller),
            now,
            status=status,
            category=category,
            offset=offset,
            limit=limit,
        )
    return OperationsOut(
        items=[OperationOut.of(v) for v in page],
        offset=offset,
        limit=limit,
        next_offset=offset + len(page) if more else None,
    )


@router.get(
    "/operations/{op_id}",
    response_model=OperationOut,
    summary="One operation",
    responses=NOT_FOUND,
)
def get_operation(center: CenterDep, caller: Reader, op_id: OpId) -> OperationOut:
    """One operation with its approvals, objections, history, breaches and conflicts as the
    caller may see them, its status settled to now."""
    now = center.now()
    with center.reading() as session:
        viewer = visibility.conflict_viewer(caller)
        return OperationOut.of(queries.get(session, desk(center), viewer, op_id, now))


@router.get(
    "/operations/{op_id}/check",
    response_model=CheckOpeningOut,
    summary="The opening of what the center's latest check of an operation showed the caller",
    responses=NOT_FOUND,
)
def get_check(center: CenterDep, caller: PartyUser, op_id: OpId) -> CheckOpeningOut:
    """Salt and content that open the caller's party's commitment in the latest check of
    the operation: of its amended area (``operation.checked``, ``"check": "operation"``) or
    of coordinates an objection gave as evidence (``operation.evidence_checked``,
    ``"check": "objection"``, the coordinates included) — the objects near them that the
    center showed the party (shared ones and its own). 404 when none was made, or when the
    center no longer keeps its opening (a check redone from the record after a restore:
    the record holds only the commitment, the party's own copy opens it)."""
    with center.reading() as session:
        found = checks.opening_for(session, op_id, caller.member)
    if found is None:
        raise NotFound("no check of this operation's amended area or evidence")
    if not checks.kept(found):
        raise NotFound(
            f"the opening of the latest check of this operation (entry {found.entry}) is not "
            "kept here: the center's tables were restored from the record, which holds only "
            "its commitment; your party's own copy opens it"
        )
    return opening_out(found)
