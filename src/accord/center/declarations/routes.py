"""``/v1/declarations``: protected sites, movements, positions and flight plans — declare,
amend, withdraw, list, read, open, and acknowledge a humanitarian notification.

The rules (who declares, who sees, what the record holds) are in
:mod:`accord.center.declarations.service`, :mod:`~accord.center.declarations.queries` and
:mod:`~accord.center.declarations.entries`. Here: a declaration the caller may not see —
another member's ``center`` declaration — answers every route exactly as an id nobody holds
does (the same 404, body and headers: the service's
:class:`~accord.errors.DeclarationNotFound`, answered by :mod:`accord.center.http.problems`).
Administrators get 403 on every declaration route, whatever the id: they register people
and keep no view of the declared world. A stale version (``If-Match`` or a ``version``
field) or content hash is a 409 naming the field.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from accord.center import visibility
from accord.center.airspace.plans import PlanConflictView, plan_changed
from accord.center.airspace.views import PlanConflictOut, plan_conflict_out
from accord.center.declarations import queries, service
from accord.center.declarations.queries import (
    Acknowledged,
    DeclarationView,
    EntryOpening,
    Listed,
    Opened,
)
from accord.center.declarations.service import RECEIPT
from accord.center.event_store import newest_id
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, AcknowledgeIn, CenterDep, problem
from accord.center.http.problems import FieldProblem, ProblemError
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.errors import DeclarationNotFound, IllegalTransition, InputError, Issue
from accord.record.canonical import encode_base64
from accord.world import Disclosure

router = APIRouter(prefix="/v1", tags=["declarations"], responses=ERRORS)

MAX_PAGE = 500
"""The most declarations one page of ``GET /v1/declarations`` returns."""

MAX_BATCH = 1000
"""The most features one ``POST /v1/declarations/batch`` declares (its body is at most the
service's ``max_body_bytes`` too: 1 MiB by default)."""

MAX_WORLD_PAGE = 10_000
"""The most features one page of ``GET /v1/world`` returns."""

Kind = Literal["protected_site", "movement", "position", "flight_plan"]
Status = Literal["active", "withdrawn"]

_DECLARANTS = allow(Role.OFFICER, Role.NOTIFIER)
_READERS = allow(*visibility.DECLARATION_READERS)
_OWNERS = allow(Role.OFFICER, Role.APPROVER, Role.NOTIFIER)
_ACKNOWLEDGERS = allow(Role.OFFICER)

NOT_FOUND = problem(404, "No declaration with this id that the caller may see")
DeclarationId = Annotated[str, Path(min_length=1, max_length=64)]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=64,
        description='The version the caller holds, as the ETag of the detail (`"3"`)',
    ),
]


# --- request bodies -------------------------------------------------------------------------


class FeatureIn(BaseModel):
    """A GeoJSON Feature of kind ``protected_site``, ``movement``, ``position`` or
    ``flight_plan`` (see ``examples/world.geojson``), without ``properties.id`` and
    ``properties.declared_by``: the server sets both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [21.905, 24.912]},
                    "properties": {
                        "kind": "protected_site",
                        "name": "East City General Hospital",
                        "disclosure": "shared",
                        "category": "hospital",
                        "standoff_m": 2000,
                    },
                }
            ]
        },
    )

    type: Literal["Feature"]
    geometry: dict[str, Any] | None = Field(
        default=None,
        description="The GeoJSON geometry; null or left out for a point given as "
        "`properties.mgrs` (an MGRS reference: stored as the square's centre, "
        "`uncertainty_m` widened by its half-diagonal)",
    )
    properties: dict[str, Any]


class BatchIn(BaseModel):
    """Several features to declare in one act, all or nothing (``POST
    /v1/declarations/batch``); each as ``POST /v1/declarations`` takes it, a flight plan
    excepted (its airspace probe answers each alone)."""

    model_config = ConfigDict(extra="forbid")

    features: list[FeatureIn] = Field(min_length=1, max_length=MAX_BATCH)


class AmendIn(FeatureIn):
    """The new feature (same kind and disclosure); ``version``, when given, is the version
    being replaced (409 if it is no longer the current one)."""

    version: int | None = Field(default=None, ge=1)


class WithdrawIn(BaseModel):
    """Why the declaration is withdrawn; ``version`` as in an amendment."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)
    version: int | None = Field(default=None, ge=1)


class HiddenDeclareIn(BaseModel):
    """Declare a ``center`` declaration: ``feature`` as ``POST /v1/declarations`` takes it,
    its ``properties.disclosure`` ``center`` or left out."""

    model_config = ConfigDict(extra="forbid")

    change: Literal["declare"]
    feature: FeatureIn


class HiddenAmendIn(BaseModel):
    """Amend the caller's member's ``center`` declaration ``id`` as ``PUT
    /v1/declarations/{id}`` would; ``version``: the version being replaced."""

    model_config = ConfigDict(extra="forbid")

    change: Literal["amend"]
    id: str = Field(min_length=1, max_length=64)
    version: int | None = Field(default=None, ge=1)
    feature: FeatureIn


class HiddenWithdrawIn(BaseModel):
    """Withdraw the caller's member's ``center`` declaration ``id``, with the reason."""

    model_config = ConfigDict(extra="forbid")

    change: Literal["withdraw"]
    id: str = Field(min_length=1, max_length=64)
    version: int | None = Field(default=None, ge=1)
    reason: str = Field(min_length=1, max_length=1000)


HiddenChange = Annotated[
    HiddenDeclareIn | HiddenAmendIn | HiddenWithdrawIn, Field(discriminator="change")
]


class HiddenChangesIn(BaseModel):
    """Changes of the caller's member's hidden (``center``) declarations, in order, in one
    act, all or nothing (``POST /v1/declarations/hidden``)."""

    model_config = ConfigDict(extra="forbid")

    changes: list[HiddenChange] = Field(min_length=1, max_length=MAX_BATCH)


class AcknowledgeVersionIn(AcknowledgeIn):
    """The SHA-256 (hex) of the canonical JSON of exactly the version acknowledged (the
    detail's ``content_hash``, which the caller should compute from its own copy), and
    optionally that version's number."""

    version: int | None = Field(default=None, ge=1)


# --- answers --------------------------------------------------------------------------------


class OpeningOut(BaseModel):
    """What opens the commitment in record entry ``entry``: the salt (base64) and the exact
    canonical JSON committed to (for a ``center`` declaration: the change, id, kind,
    version and content). Keep it: it is the owner's proof, to check against the record
    alone with ``accord record open`` (``accord.record.commitments.open_commitment``)."""

    entry: int
    commitment: str
    salt: str
    content: str

    @classmethod
    def of(cls, opened: Opened | None) -> OpeningOut | None:
        if opened is None:
            return None
        return cls(
            entry=opened.entry,
            commitment=encode_base64(opened.commitment),
            salt=encode_base64(opened.salt),
            content=opened.content,
        )


class AcknowledgementOut(BaseModel):
    """A party's receipt of one version (never an approval)."""

    member: str
    version: int
    content_hash: str
    acknowledged_at: datetime
    entry: int

    @classmethod
    def of(cls, ack: Acknowledged) -> AcknowledgementOut:
        return cls(
            member=ack.member,
            version=ack.version,
            content_hash=ack.content_hash,
            acknowledged_at=ack.acknowledged_at,
            entry=ack.entry,
        )


class DeclarationOut(BaseModel):
    """A declaration as the caller may see it. ``opening`` only in the owner's answer to
    a change of a ``center`` declaration; ``acknowledgements``: for the owner every party's
    receipts, for anyone else its own member's."""

    id: str
    kind: str
    owner: str
    disclosure: str
    status: str
    version: int
    feature: dict[str, Any]
    content_hash: str
    declared_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    entry: int
    opening: OpeningOut | None = None
    acknowledgements: list[AcknowledgementOut] = []
    airspace: list[PlanConflictOut] | None = None

    @classmethod
    def of(cls, view: DeclarationView) -> DeclarationOut:
        return cls(
            id=view.id,
            kind=view.kind,
            owner=view.owner,
            disclosure=view.disclosure,
            status=view.status,
            version=view.version,
            feature=view.feature,
            content_hash=view.content_hash,
            declared_at=view.declared_at,
            updated_at=view.updated_at,
            withdrawn_at=view.withdrawn_at,
            withdrawn_reason=view.withdrawn_reason,
            entry=view.entry,
            opening=OpeningOut.of(view.opening),
            acknowledgements=[AcknowledgementOut.of(a) for a in view.acknowledgements or ()],
        )


class PageOut(BaseModel):
    """One page of declarations, by id; ``next`` is the ``after`` of the next page."""

    items: list[DeclarationOut]
    next: str | None


class BatchOut(BaseModel):
    """The declarations made, in the order of the request's features."""

    items: list[DeclarationOut]


class AcknowledgedOut(AcknowledgementOut):
    """The receipt as recorded. ``meaning`` says what it is: not an approval."""

    declaration: str
    meaning: str = RECEIPT


class EntryOpeningOut(BaseModel):
    """A record entry about the declaration; ``opening`` when the entry holds a commitment
    (a ``center`` declaration's), ``null`` when it holds the content in clear."""

    entry: int
    change: str
    version: int
    member: str
    at: datetime
    opening: OpeningOut | None

    @classmethod
    def of(cls, item: EntryOpening) -> EntryOpeningOut:
        return cls(
            entry=item.entry,
            change=item.change,
            version=item.version,
            member=item.member,
            at=item.at,
            opening=OpeningOut.of(item.opening),
        )


class OpeningsOut(BaseModel):
    """Every record entry about one declaration, oldest first."""

    id: str
    entries: list[EntryOpeningOut]


# --- helpers --------------------------------------------------------------------------------


Expected = dict[str, tuple[str, int]]
"""What an ``If-Match`` or a body's ``version`` expects a declaration to be."""


def _expected(if_match: str | None, version: int | None) -> Expected:
    expected: dict[str, tuple[str, int]] = {}
    if version is not None:
        expected["version"] = ("body", version)
    if if_match is not None and if_match.strip() != "*":
        text = if_match.strip().removeprefix("W/").strip('"')
        if not text.isdigit() or len(text) > 9:
            message = 'the version the caller holds, such as "3"'
            raise ProblemError(
                422,
                f"If-Match: {message}",
                kind="validation",
                errors=[FieldProblem(field="If-Match", location="header", message=message)],
            )
        expected["If-Match"] = ("header", int(text))
    return expected


# --- the works the writer runs (module functions: a writer process receives them pickled) --


def _conflicts_out(conflicts: list[PlanConflictView] | None) -> list[PlanConflictOut] | None:
    """A flight plan's probe as the answer says it (``None``: no flight plan)."""
    return None if conflicts is None else [plan_conflict_out(c) for c in conflicts]


def _declare(
    unit: Unit, *, caller: Caller, feature: dict[str, Any], at: datetime
) -> DeclarationOut:
    out = DeclarationOut.of(service.declare(unit, caller, feature, at))
    out.airspace = _conflicts_out(plan_changed(unit, caller, out.id, at))
    return out


def _declare_batch(
    unit: Unit, *, caller: Caller, features: list[dict[str, Any]], at: datetime
) -> BatchOut:
    for k, feature in enumerate(features):
        if feature["properties"].get("kind") == "flight_plan":
            message = (
                "a flight plan is declared alone (POST /v1/declarations): its probe answers it"
            )
            raise InputError("declaration", [Issue(f"features[{k}].properties.kind", message)])
    items = [(caller, feature) for feature in features]
    views = service.declare_many(unit, items, at, name_items=True)
    return BatchOut(items=[DeclarationOut.of(view) for view in views])


def _hidden_changes(
    unit: Unit, *, caller: Caller, changes: list[dict[str, Any]], at: datetime
) -> BatchOut:
    """Each of ``changes`` (:class:`HiddenChangesIn`'s, as dicts) in order; any refusal
    names its change ``changes[k]`` and refuses them all (the unit rolls back). A run of
    declarations (no flight plan: each is probed alone) is declared at once, as ``POST
    /v1/declarations/batch`` declares its features."""
    shared = [
        Issue(f"changes[{k}].feature.properties.disclosure", _CENTER_ONLY)
        for k, change in enumerate(changes)
        if change["change"] == "declare"
        and change["feature"]["properties"]["disclosure"] != _CENTER
    ]
    if shared:
        raise InputError("declaration", shared)
    made: list[DeclarationOut] = []
    k = 0
    while k < len(changes):
        run = k
        while run < len(changes) and _bulk(changes[run]):
            run += 1
        if run - k > 1:
            items = [(caller, c["feature"]) for c in changes[k:run]]
            names = [f"changes[{i}].feature" for i in range(k, run)]
            views = service.declare_many(unit, items, at, names=names)
            made += [DeclarationOut.of(view) for view in views]
            k = run
            continue
        change = changes[k]
        try:
            made.append(_hidden_change(unit, caller, change, at, k))
        except InputError as error:
            issues = [
                Issue(f"changes[{k}].{_within(change, issue.field)}", issue.message)
                for issue in error.issues
            ]
            raise InputError(error.source, issues) from None
        except DeclarationNotFound:  # the same answer whoever holds the id, if anyone
            issue = Issue(f"changes[{k}].id", "no such declaration")
            raise InputError("declaration", [issue]) from None
        except IllegalTransition as error:
            raise IllegalTransition(f"changes[{k}] ({change.get('id')}): {error}") from None
        k += 1
    return BatchOut(items=made)


_CENTER = Disclosure.CENTER.value
_CENTER_ONLY = "POST /v1/declarations/hidden declares center declarations only"


def _bulk(change: dict[str, Any]) -> bool:
    """Whether ``change`` may be declared with the others of its run at once."""
    if change["change"] != "declare":
        return False
    return bool(change["feature"]["properties"].get("kind") != "flight_plan")


def _within(change: dict[str, Any], field: str) -> str:
    """Where a service's field lies in a change: the id, the version, or the feature."""
    if field in ("id", "declaration_id"):
        return "id"
    return field if change["change"] == "withdraw" else f"feature.{field}"


def _hidden_change(
    unit: Unit, caller: Caller, change: dict[str, Any], at: datetime, k: int
) -> DeclarationOut:
    """One change, done as its own route's work does it (a shared declaration refused)."""
    expected: Expected = {}
    if change.get("version") is not None:
        expected[f"changes[{k}].version"] = ("body", change["version"])
    if change["change"] == "declare":
        return _declare(unit, caller=caller, feature=change["feature"], at=at)
    if change["change"] == "amend":
        return _amend(
            unit, caller=caller, declaration_id=change["id"], feature=change["feature"],
            expected=expected, at=at, hidden_only=True,
        )  # fmt: skip
    return _withdraw(
        unit, caller=caller, declaration_id=change["id"], reason=change["reason"],
        expected=expected, at=at, hidden_only=True,
    )  # fmt: skip


def _change_of(change: HiddenDeclareIn | HiddenAmendIn | HiddenWithdrawIn) -> dict[str, Any]:
    """A change as the work takes it: its feature as :func:`_feature` gives a route's, and a
    declaration's ``properties.disclosure`` ``center`` when left out."""
    out = change.model_dump(mode="json", exclude={"feature"})
    if isinstance(change, HiddenWithdrawIn):
        return out
    feature = _feature(change.feature)
    if isinstance(change, HiddenDeclareIn):
        feature["properties"] = {"disclosure": _CENTER, **feature["properties"]}
    return {**out, "feature": feature}


def _amend(
    unit: Unit,
    *,
    caller: Caller,
    declaration_id: str,
    feature: dict[str, Any],
    expected: Expected,
    at: datetime,
    hidden_only: bool = False,
) -> DeclarationOut:
    view = service.amend(
        unit, caller, declaration_id, feature, at, expected=expected, hidden_only=hidden_only
    )
    out = DeclarationOut.of(view)
    out.airspace = _conflicts_out(plan_changed(unit, caller, out.id, at))
    return out


def _withdraw(
    unit: Unit,
    *,
    caller: Caller,
    declaration_id: str,
    reason: str,
    expected: Expected,
    at: datetime,
    hidden_only: bool = False,
) -> DeclarationOut:
    view = service.withdraw(
        unit, caller, declaration_id, reason, at, expected=expected, hidden_only=hidden_only
    )
    plan_changed(unit, caller, view.id, at)
    return DeclarationOut.of(view)


def _acknowledge(
    unit: Unit,
    *,
    caller: Caller,
    declaration_id: str,
    content_hash: str,
    expected: Expected,
    at: datetime,
) -> AcknowledgedOut:
    ack = service.acknowledge(
        unit,
        caller,
        declaration_id,
        content_hash,
        at,
        expected=expected,
    )
    return AcknowledgedOut(
        declaration=ack.declaration,
        member=ack.member,
        version=ack.version,
        content_hash=ack.content_hash,
        acknowledged_at=ack.acknowledged_at,
        entry=ack.entry,
    )


def _feature(body: FeatureIn) -> dict[str, Any]:
    return {"type": body.type, "geometry": body.geometry, "properties": body.properties}


# --- routes ---------------------------------------------------------------------------------


@router.post(
    "/declarations",
    response_model=DeclarationOut,
    status_code=201,
    summary="Declare a site, movement, position or flight plan",
)
async def create_declaration(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_DECLARANTS)],
    body: Annotated[FeatureIn, Body()],
) -> JSONResponse:
    """Declare a feature for the caller's member. A party's officer declares any of the
    four kinds, ``shared`` or ``center`` (a position's ``party`` is the caller's own); a
    humanitarian notifier declares sites and movements, always ``shared``. The server
    assigns ``properties.id``; the answer to a ``center`` declaration carries the opening of
    its record entry's commitment — keep it."""
    act = partial(_declare, caller=caller, feature=_feature(body), at=center.now())
    return await write(center, request, caller, act, body=body)


@router.post(
    "/declarations/batch",
    response_model=BatchOut,
    status_code=201,
    summary="Declare several sites, movements or positions at once, all or nothing",
)
async def create_declarations(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_DECLARANTS)],
    body: Annotated[BatchIn, Body()],
) -> JSONResponse:
    """Declare every feature of ``features`` (at most 1,000) for the caller's member, in
    one act and one unit of work: each is held to exactly what ``POST /v1/declarations``
    holds it to, and one bad feature refuses them all (422, every problem named
    ``features[k].<field>``; a device uid another party holds: 409), nothing declared. Each
    declaration is its own record entry, in order, the act in the first and named by the
    others. The answer lists them in the request's order, with the opening of each
    ``center`` one's entry — keep them. ``accord import`` sends its files so."""
    features = [_feature(feature) for feature in body.features]
    act = partial(_declare_batch, caller=caller, features=features, at=center.now())
    return await write(center, request, caller, act, body=body)


@router.post(
    "/declarations/hidden",
    response_model=BatchOut,
    summary="Change hidden declarations: declare, amend, withdraw — one request line for all",
    responses={**NOT_FOUND, **CONFLICT},
)
async def change_hidden_declarations(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_DECLARANTS)],
    body: Annotated[HiddenChangesIn, Body()],
) -> JSONResponse:
    """Declare, amend and withdraw the caller's member's ``center`` declarations: each of
    ``changes`` (at most 1,000) held to exactly what ``POST /v1/declarations``, ``PUT
    /v1/declarations/{id}`` and ``POST …/{id}/withdraw`` hold it to, in order, in one act
    and one unit of work; one refused change refuses them all, named ``changes[k]``
    (422, 409), nothing changed. Each change is its own ``declaration.hidden`` record
    entry, the act in the first. Under an agreement whose members sign their acts, this is
    the only way to change a hidden declaration: the act's request line, which every party
    reads in the record, is this one whatever it changes, where ``PUT
    /v1/declarations/d-…`` would name the declaration and the change. The answer lists the
    declarations in the order of the changes, each with the opening of its entry — keep
    them."""
    changes = [_change_of(change) for change in body.changes]
    act = partial(_hidden_changes, caller=caller, changes=changes, at=center.now())
    return await write(center, request, caller, act, body=body, status=200)


@router.get("/declarations", response_model=PageOut, summary="List declarations")
def list_declarations(
    center: CenterDep,
    caller: Annotated[Caller, Depends(_READERS)],
    kind: Kind | None = None,
    owner: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Response:
    """The declarations the caller may see, by id, ``limit`` at a time after the id
    ``after``: its own member's, and every other member's ``shared`` ones (a notifier: only
    its own; a monitor: the ``shared`` ones)."""
    with center.reading() as session:
        listed, following = queries.listing(
            session, caller, kind=kind, owner=owner, status=status, limit=limit, after=after
        )
    return Response(encode_page(listed, following), media_type="application/json")


EVENTS_AFTER = "Accord-Events-After"
"""The header of ``GET /v1/world`` naming the events position its answer is as of."""


class WorldOut(BaseModel):
    """The declarations in force that the caller may see, as a GeoJSON FeatureCollection
    (the form of ``examples/world.geojson``): each feature exactly as stored, its properties
    naming its ``id``, ``kind``, owner (``declared_by``) and ``disclosure``. ``next`` (a
    foreign member) is the ``after`` of the next page, ``null`` on the last; the answer's
    ``Link`` header (RFC 8288, ``rel="next"``) carries the next page's address too, so that a
    client can ask for it before reading this page's body; its ``Accord-Events-After`` header
    is the id of the newest event as of just before the page was read: every change the page
    may not show is announced by a later event (``GET /v1/events?after=`` that id)."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]
    next: str | None


@router.get("/world", response_model=WorldOut, summary="The declarations in force, as GeoJSON")
def get_world(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_READERS)],
    limit: Annotated[int, Query(ge=1, le=MAX_WORLD_PAGE)] = 1000,
    after: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Response:
    """The declarations in force that the caller may see (exactly those of
    ``GET /v1/declarations?status=active``: its own member's, and every other member's
    ``shared`` ones; a notifier only its own; a monitor the ``shared`` ones), by id,
    ``limit`` at a time after the id ``after``, as GeoJSON features: what a map needs, in
    bulk, without the record's bookkeeping (versions, hashes, acknowledgements) that the
    list carries. Operations are not here (``GET /v1/operations``). While there is a next
    page, the ``Link`` header names it (``rel="next"``). ``Accord-Events-After`` is the id of
    the newest event, read before the page: a client that follows ``GET /v1/events`` from
    there (``?after=`` or ``Last-Event-ID``) misses no change, whenever it connects."""
    with center.reading() as session:
        position = newest_id(session)
        features, following = queries.in_force(session, caller, limit=limit, after=after)
    body = b",".join(f.encode("utf-8") for f in features)
    tail = b'],"next":' + to_json(following) + b"}"
    headers = {EVENTS_AFTER: str(position)}
    if following is not None:
        query = urlencode({"limit": limit, "after": following})
        headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
    return Response(
        b'{"type":"FeatureCollection","features":[' + body + tail,
        media_type="application/json",
        headers=headers,
    )


def encode_page(listed: list[Listed], following: str | None) -> bytes:
    """The JSON of a :class:`PageOut` of ``listed``, written without building the models:
    each stored feature is copied as it is (it is canonical JSON already) and the other
    fields are serialised as the models would (the same values, the same datetime form);
    ``feature`` comes last in each item."""
    items = [
        to_json(
            {
                "id": item.id,
                "kind": item.kind,
                "owner": item.owner,
                "disclosure": item.disclosure,
                "status": item.status,
                "version": item.version,
                "content_hash": item.content_hash,
                "declared_at": item.declared_at,
                "updated_at": item.updated_at,
                "withdrawn_at": item.withdrawn_at,
                "withdrawn_reason": item.withdrawn_reason,
                "entry": item.entry,
                "opening": None,
                "acknowledgements": [_ack_json(a) for a in item.acknowledgements],
                "airspace": None,  # a list carries no probe: only a filing's answer does
            }
        )[:-1]
        + b',"feature":'
        + item.feature_json.encode("utf-8")
        + b"}"
        for item in listed
    ]
    return b'{"items":[' + b",".join(items) + b'],"next":' + to_json(following) + b"}"


def _ack_json(ack: Acknowledged) -> dict[str, Any]:
    return {
        "member": ack.member,
        "version": ack.version,
        "content_hash": ack.content_hash,
        "acknowledged_at": ack.acknowledged_at,
        "entry": ack.entry,
    }


@router.get(
    "/declarations/{declaration_id}",
    response_model=DeclarationOut,
    summary="One declaration",
    responses=NOT_FOUND,
)
def get_declaration(
    center: CenterDep, caller: Annotated[Caller, Depends(_READERS)], declaration_id: DeclarationId
) -> JSONResponse:
    """The declaration, with its version as the ``ETag`` (for ``If-Match``)."""
    with center.reading() as session:
        view = queries.find(session, caller, declaration_id)
    out = DeclarationOut.of(view).model_dump(mode="json")
    return JSONResponse(out, headers={"ETag": f'"{view.version}"'})


@router.put(
    "/declarations/{declaration_id}",
    response_model=DeclarationOut,
    summary="Amend a declaration",
    responses={**NOT_FOUND, **CONFLICT},
)
async def amend_declaration(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_DECLARANTS)],
    declaration_id: DeclarationId,
    body: Annotated[AmendIn, Body()],
    if_match: IfMatch = None,
) -> JSONResponse:
    """Replace the feature of one of the caller's member's declarations (same kind, same
    disclosure; ``properties.id`` and ``declared_by`` may be sent back unchanged) and raise
    its version."""
    act = partial(
        _amend,
        caller=caller,
        declaration_id=declaration_id,
        feature=_feature(body),
        expected=_expected(if_match, body.version),
        at=center.now(),
    )
    return await write(center, request, caller, act, body=body, status=200)


@router.post(
    "/declarations/{declaration_id}/withdraw",
    response_model=DeclarationOut,
    summary="Withdraw a declaration",
    responses={**NOT_FOUND, **CONFLICT},
)
async def withdraw_declaration(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_DECLARANTS)],
    declaration_id: DeclarationId,
    body: Annotated[WithdrawIn, Body()],
    if_match: IfMatch = None,
) -> JSONResponse:
    """Take one of the caller's member's declarations out of force; it stays, withdrawn,
    in the history and the record."""
    act = partial(
        _withdraw,
        caller=caller,
        declaration_id=declaration_id,
        reason=body.reason,
        expected=_expected(if_match, body.version),
        at=center.now(),
    )
    return await write(center, request, caller, act, body=body, status=200)


@router.post(
    "/declarations/{declaration_id}/acknowledge",
    response_model=AcknowledgedOut,
    status_code=201,
    summary="Acknowledge a humanitarian notification (a receipt, not an approval)",
    responses={**NOT_FOUND, **CONFLICT},
)
async def acknowledge_declaration(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_ACKNOWLEDGERS)],
    declaration_id: DeclarationId,
    body: Annotated[AcknowledgeVersionIn, Body()],
    if_match: IfMatch = None,
) -> JSONResponse:
    """A party's officer acknowledges the current version of a humanitarian notifier's
    site or movement by naming its ``content_hash``. This is a **receipt** — the party has
    exactly this version — and **never an approval**: it changes nothing about the object.
    Recorded as an entry by the party; the notifier sees it."""
    act = partial(
        _acknowledge,
        caller=caller,
        declaration_id=declaration_id,
        content_hash=body.content_hash,
        expected=_expected(if_match, body.version),
        at=center.now(),
    )
    return await write(center, request, caller, act, body=body)


@router.get(
    "/declarations/{declaration_id}/openings",
    response_model=OpeningsOut,
    summary="The openings of a declaration's record entries (its owner only)",
    responses=NOT_FOUND,
)
def declaration_openings(
    center: CenterDep, caller: Annotated[Caller, Depends(_OWNERS)], declaration_id: DeclarationId
) -> OpeningsOut:
    """Every record entry about one of the caller's member's declarations, with the salt
    and exact content that open each commitment: the owner's proof of what it declared and
    when, checkable against the record without the center."""
    with center.reading() as session:
        items = queries.openings(session, caller, declaration_id)
    return OpeningsOut(id=declaration_id, entries=[EntryOpeningOut.of(i) for i in items])
