"""The agreement: who the parties are and the rules they agreed to, as typed data.

An agreement file is YAML. :func:`load_agreement` validates it into an :class:`Agreement`;
anything wrong raises :class:`~accord.errors.AgreementError` naming the field path and the
line of every problem, and nothing is returned half-built.

>>> from accord.agreement import load_agreement_text
>>> text = '''
... id: demo
... title: Demo
... starts_at: 2026-05-01T00:00:00Z
... parties: [{id: blue, name: Blue}, {id: red, name: Red}]
... categories:
...   coordinated: {rule: coordinated}
... phases:
...   - {id: joint, categories: [coordinated]}
... '''
>>> a = load_agreement_text(text)
>>> a.category("coordinated").max_executors
1
>>> a.buffer_m("protected_site")
1000.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import shapely
import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationError,
    field_serializer,
    field_validator,
    model_serializer,
)

from accord.chrono import parse_duration, parse_instant
from accord.errors import AgreementError, FormatError, Issue, field_path
from accord.record.keys import SIG_ED25519, SIG_ED25519_COSIGNATURE, PublicKey

__all__ = [
    "CENTER",
    "UNKNOWN",
    "Agreement",
    "AirspaceRules",
    "Category",
    "Condition",
    "CoordinatedRule",
    "DeconflictionRules",
    "DesignatedArea",
    "DisclosureRules",
    "ImminentThreatRule",
    "Limits",
    "Member",
    "ObjectKind",
    "Phase",
    "PhaseStart",
    "PhaseStatus",
    "ProbeLimit",
    "RuleKind",
    "SynchronizedRule",
    "WitnessRef",
    "load_agreement",
    "load_agreement_text",
    "phase_at",
    "phase_starts",
]

CENTER = "center"
"""The id reserved for the center itself: no party, notifier, monitor or operator takes it
(in any case), so that a report may name the center as the accused
(:mod:`accord.center.reports.service`) and no member's act can be read as the center's."""

UNKNOWN = "unknown"
"""The operator of an aircraft the center's sensors see and no declaration or registry names
(:mod:`accord.center.airspace.identity`): reserved like :data:`CENTER` (no member takes it, in
any case), and a designated area may restrict it (``restricted_operators: [unknown]``)."""

DEFAULT_EXEMPT_MISSIONS: tuple[str, ...] = ("medevac", "personnel_recovery", "humanitarian")


_LONGEST = timedelta(days=36525)


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 duration string such as PT30M or P7D")
    duration = parse_duration(value)
    if duration > _LONGEST:
        raise ValueError(f"{value!r} is longer than 100 years")
    return duration


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("has no UTC offset; write it as e.g. 2026-05-01T00:00:00Z")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 time with an offset, e.g. 2026-05-01T00:00:00Z")
    return parse_instant(value)


Instant = Annotated[AwareDatetime, BeforeValidator(_instant)]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ObjectKind(StrEnum):
    """Kinds of declared object the engine checks an operation against."""

    PROTECTED_SITE = "protected_site"
    MOVEMENT = "movement"
    POSITION = "position"
    FLIGHT_PLAN = "flight_plan"
    OPERATION = "operation"


class RuleKind(StrEnum):
    """The three kinds of rule an operation category can follow (the brief's source facts)."""

    COORDINATED = "coordinated"
    SYNCHRONIZED = "synchronized"
    IMMINENT_THREAT = "imminent_threat"


class WitnessRef(_Model):
    """A party's witness (C2SP tlog-witness v1), which the center asks to cosign each head.

    ``vkey`` is its verifier key in the signed-note text form, of type 0x04 (a
    tlog-cosignature key: ``<name>+<key ID>+<base64 of 0x04 || Ed25519 public key>``) and
    named ``name``; ``url`` its base URL (``http`` or ``https``; the center posts to
    ``<url>/add-checkpoint``).
    """

    name: str = Field(min_length=1, max_length=256)
    vkey: str
    url: str = Field(max_length=2048)

    @field_validator("vkey")
    @classmethod
    def _vkey(cls, value: str) -> str:
        try:
            _key, sig_type = PublicKey.from_vkey(value)
        except (FormatError, ValueError) as error:
            raise ValueError(f"not a signed-note verifier key: {error}") from None
        if sig_type != SIG_ED25519_COSIGNATURE:
            raise ValueError(
                f"a witness's key is a cosignature key (type 0x04), not type 0x{sig_type:02x}"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError as error:
            raise ValueError(f"not a URL: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "an http:// or https:// base URL with a host, e.g. http://127.0.0.1:7380"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("a base URL without query, fragment or user name")
        return value.rstrip("/")

    @property
    def key(self) -> PublicKey:
        """The witness's public key (its cosignature lines are checked against it)."""
        return PublicKey.from_vkey(self.vkey)[0]


class Member(_Model):
    """A party, a humanitarian notifier, a monitor or a non-party operator.

    ``root_key`` is the member's trust root: a C2SP signed-note verifier key
    (``<id>+<key hash>+<base64 of 0x01 || Ed25519 public key>``) whose private half its office
    keeps offline. The root signs the agreement and certifies the keys of the member's users
    (:mod:`accord.record.registry`); the center never holds it. ``witness`` (a party's only)
    is the party's witness: the center asks it to cosign every head, and a head counts as
    witnessed when every party's witness has cosigned it.
    """

    id: Ident
    name: str = Field(min_length=1)
    root_key: str | None = None
    witness: WitnessRef | None = None

    @model_serializer(mode="wrap")
    def _without_no_witness(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A member without a witness is written as before witnesses existed: the agreement
        # document (the record's entry 0, the digest its roots sign) of an agreement that
        # names none is unchanged, so records begun before still open under it.
        data: dict[str, Any] = handler(self)
        if data.get("witness") is None:
            data.pop("witness", None)
        return data


class CoordinatedRule(_Model):
    """Every party approves before execution, any party may veto, ``max_executors`` execute."""

    rule: Literal["coordinated"]
    max_executors: int = Field(default=1, ge=1, strict=True)
    description: str = ""


class SynchronizedRule(_Model):
    """No approval; notice at least ``notice`` before the window opens; objections hold it."""

    rule: Literal["synchronized"]
    notice: Duration
    objection_window: Duration
    hold_while_objected: bool = Field(default=True, strict=True)
    description: str = ""


class ImminentThreatRule(_Model):
    """No prior notice; a notification is due within ``notify_within`` after execution."""

    rule: Literal["imminent_threat"]
    notify_within: Duration
    description: str = ""


Category = Annotated[
    CoordinatedRule | SynchronizedRule | ImminentThreatRule, Field(discriminator="rule")
]


def _default_buffers() -> dict[ObjectKind, float]:
    return {
        ObjectKind.PROTECTED_SITE: 1000.0,
        ObjectKind.MOVEMENT: 500.0,
        ObjectKind.POSITION: 2000.0,
        ObjectKind.FLIGHT_PLAN: 3000.0,
        ObjectKind.OPERATION: 1000.0,
    }


class DeconflictionRules(_Model):
    """Buffers per kind of object (metres) and which kinds block rather than warn."""

    buffers_m: dict[ObjectKind, Annotated[float, Field(ge=0, le=500_000)]] = Field(
        default_factory=_default_buffers
    )
    blocking: frozenset[ObjectKind] = frozenset(
        {
            ObjectKind.PROTECTED_SITE,
            ObjectKind.MOVEMENT,
            ObjectKind.POSITION,
            ObjectKind.FLIGHT_PLAN,
        }
    )
    site_reconfirm_every: Duration = timedelta(days=7)

    @field_serializer("blocking")
    def _sorted(self, blocking: frozenset[ObjectKind]) -> list[str]:
        # A set has no order; its dump must have one, the same in every process (the
        # agreement's digest, which each party's root signs, is taken over it).
        return sorted(kind.value for kind in blocking)


class AirspaceRules(_Model):
    """Separation minima and look-ahead for airspace deconfliction."""

    horizontal_nm: float = Field(default=5.0, gt=0, le=100)
    vertical_ft: int = Field(default=1000, gt=0, le=10_000, strict=True)
    lookahead: Duration = timedelta(seconds=300)


class ProbeLimit(_Model):
    """How much probing of another party's hidden objects is tolerated: a party whose
    proposals and amendments touched another party's hidden objects in more than ``areas``
    distinct areas within ``window`` is reported to that party and slowed."""

    areas: int = Field(default=5, ge=1, le=10_000, strict=True)
    window: Duration = timedelta(hours=24)


class DisclosureRules(_Model):
    """What another party may learn of a hidden (``center``) object.

    ``hidden_precision_m``: no party can place another party's hidden object closer than
    this, however many proposals it makes (0: conflicts with hidden objects are answered from
    their true geometry, without a bound). ``probe_limit``: the alert and slowing of a prober
    (``null``: off; the precision bound holds without it)."""

    hidden_precision_m: float = Field(default=1000.0, ge=0, le=50_000)
    probe_limit: ProbeLimit | None = Field(default_factory=ProbeLimit)


class Limits(_Model):
    """What one request may ask of the center: bounds on the work a geometry implies and on
    the numbers that widen a check, so that no request within them can occupy the writer
    or the deconfliction engine for long (issue 15). Checked where the world is read
    (:func:`accord.world.parse_world`), so ``accord check`` and the service refuse alike,
    naming the field.

    Vertices are counted as the engine counts them: every position given, plus one every
    2 km along each leg (lines and polygon boundaries are densified to 2 km legs), so a
    spiky star of few positions but a huge perimeter counts for what it costs.
    """

    vertices_per_geometry: int = Field(default=2_000, ge=4, le=1_000_000, strict=True)
    """Positions one geometry may give (every ring of a polygon counted): each is read,
    checked, stored, signed and announced in Python, tens of microseconds apiece."""
    densified_vertices_per_geometry: int = Field(default=10_000, ge=4, le=10_000_000, strict=True)
    """A geometry's vertices once densified to 2 km legs (a 20,000 km route or boundary)."""
    operation_vertices: int = Field(default=500, ge=4, le=1_000_000, strict=True)
    """Positions an operation's polygon may give: a check costs (nearby vertices) × (the
    operation's edges), so the operation's own edges are held tighter."""
    operation_densified_vertices: int = Field(default=2_500, ge=4, le=10_000_000, strict=True)
    """An operation's boundary once densified to 2 km legs (5,000 km of boundary: three
    times the perimeter of the widest circle ``operation_extent_m`` allows). Held tighter
    than other geometries for the same reason as ``operation_vertices``, and because every
    later check near it scans its vertices: a party stacking spiky operations in one spot
    makes each of its next checks, and each fold of the world cache, longer by that much."""
    features_per_request: int = Field(default=5_000, ge=1, le=1_000_000, strict=True)
    """Features (declarations, tracks) one request may carry."""
    own_track_conflicts: int = Field(default=50_000, ge=1, le=10_000_000, strict=True)
    """Predicted losses of separation among one party's own fresh aircraft that its
    officers' track batches may bring about: every pair is an alert the writer raises and
    records, so N aircraft packed in one spot cost N²/2 of them (the default: about 316 in
    one spot, 0.3 s of the writer's; 5,000 would be 12.5 million, minutes). A batch past it
    — or packing them so densely that the detector would examine more than 40 times as many
    of their pairs — is refused whole, naming ``tracks``; it never drops a conflict with
    another party's aircraft that the batch does not bring about, and the center's own feed
    is not held to it (see :func:`accord.center.airspace.tracks.report_tracks`)."""
    operation_extent_m: float = Field(default=250_000.0, gt=0, le=250_000.0)
    """How far an operation's area may reach from its centre, a circle's radius included
    (the engine's local frame is accurate to metres over hundreds of kilometres, not more)."""
    uncertainty_m: float = Field(default=50_000.0, ge=0, le=1_000_000.0)
    """The largest declared uncertainty: beyond tens of kilometres a position says nothing
    a check can use, and a huge one would block every operation anywhere."""
    corridor_m: float = Field(default=50_000.0, ge=0, le=1_000_000.0)
    """The widest half-width of a movement's corridor."""
    standoff_m: float = Field(default=50_000.0, ge=0, le=1_000_000.0)
    """The largest standoff a protected site may ask for."""
    writer_share: float = Field(default=0.5, gt=0, le=1.0)
    """The share of the writer's time one member may take, sustained: every write is charged
    the time its unit of work took in the writer (its cost, whatever made it costly)."""
    writer_burst_s: float = Field(default=5.0, gt=0, le=3600.0)
    """The writer time a member may take at once before it is slowed (429, ``Retry-After``);
    it refills at ``writer_share`` seconds per second."""
    read_share: float = Field(default=1.0, gt=0, le=64.0)
    """The server time (seconds per second) one member's reads may take, sustained."""
    read_burst_s: float = Field(default=30.0, gt=0, le=3600.0)
    """The read time a member may take at once before its reads are slowed."""
    writes_in_flight: int = Field(default=8, ge=1, le=10_000, strict=True)
    """A member's writes in the writer's queue at once; more wait their turn outside it, so
    another party's write never queues behind more than this many of one member's."""
    event_streams_per_user: int = Field(default=4, ge=1, le=1_000, strict=True)
    """Live event streams (``GET /v1/events``, ``text/event-stream``) one user may hold."""


class DesignatedArea(_Model):
    """A polygon in which named operators may not fly, except on exempt missions."""

    id: Ident
    name: str = ""
    polygon: list[tuple[float, float]] = Field(min_length=3)
    restricted_operators: list[Ident] = Field(min_length=1)
    exempt_missions: list[Ident] = Field(default_factory=lambda: list(DEFAULT_EXEMPT_MISSIONS))


class Condition(_Model):
    """A named fact a phase can wait for (e.g. a humanitarian delivery confirmed)."""

    id: Ident
    description: str = ""
    confirmed_by: list[Ident] = Field(default_factory=list)


class PhaseStart(_Model):
    """When a phase starts: after the previous one, ``after`` the agreement's start, and once
    every condition in ``confirmed`` is confirmed — whichever comes last."""

    after: Duration = timedelta(0)
    confirmed: list[Ident] = Field(default_factory=list)


class Phase(_Model):
    """A phase of the agreement and the operation categories permitted while it is in force."""

    id: Ident
    name: str = ""
    starts: PhaseStart = Field(default_factory=PhaseStart)
    categories: list[Ident] = Field(default_factory=list)


class Agreement(_Model):
    """A validated agreement. Build with :func:`load_agreement`."""

    id: Ident
    title: str = Field(min_length=1)
    starts_at: Instant
    parties: list[Member] = Field(min_length=2)
    notifiers: list[Member] = Field(default_factory=list)
    monitors: list[Member] = Field(default_factory=list)
    operators: list[Member] = Field(default_factory=list)
    categories: dict[Ident, Category] = Field(min_length=1)
    deconfliction: DeconflictionRules = Field(default_factory=DeconflictionRules)
    airspace: AirspaceRules = Field(default_factory=AirspaceRules)
    disclosure: DisclosureRules = Field(default_factory=DisclosureRules)
    designated_areas: list[DesignatedArea] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    conditions: list[Condition] = Field(default_factory=list)
    phases: list[Phase] = Field(min_length=1)

    # --- look-ups -------------------------------------------------------------------------

    @property
    def rooted(self) -> bool:
        """Whether the agreement names its members' trust roots (then every party, notifier
        and monitor names one: see :meth:`roots`)."""
        return any(m.root_key is not None for m in self.acting_members)

    @property
    def acting_members(self) -> tuple[Member, ...]:
        """The members who act in the record: parties, notifiers and monitors."""
        return (*self.parties, *self.notifiers, *self.monitors)

    @property
    def witnesses(self) -> dict[str, WitnessRef]:
        """Party id → the party's witness, for the parties that name one."""
        return {p.id: p.witness for p in self.parties if p.witness is not None}

    def roots(self) -> dict[str, PublicKey]:
        """Member id → its root public key (empty for an agreement that names none)."""
        return {
            m.id: PublicKey.from_vkey(m.root_key)[0]
            for m in self.acting_members
            if m.root_key is not None
        }

    @property
    def party_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.parties)

    @property
    def notifier_ids(self) -> frozenset[str]:
        return frozenset(n.id for n in self.notifiers)

    @property
    def monitor_ids(self) -> frozenset[str]:
        return frozenset(m.id for m in self.monitors)

    @property
    def operator_ids(self) -> frozenset[str]:
        """Every id that may operate aircraft: parties and registered non-party operators."""
        return self.party_ids | frozenset(o.id for o in self.operators)

    @property
    def declarant_ids(self) -> frozenset[str]:
        """Every id that may declare objects: parties and humanitarian notifiers."""
        return self.party_ids | self.notifier_ids

    def category(self, category_id: str) -> CoordinatedRule | SynchronizedRule | ImminentThreatRule:
        """The rule of a category; ``KeyError`` if the agreement has no such category."""
        return self.categories[category_id]

    def buffer_m(self, kind: ObjectKind | str) -> float:
        """The buffer in metres for a kind of object (0 where the agreement sets none)."""
        return float(self.deconfliction.buffers_m.get(ObjectKind(kind), 0.0))

    def blocks(self, kind: ObjectKind | str) -> bool:
        """Whether a conflict with this kind of object blocks (else it warns)."""
        return ObjectKind(kind) in self.deconfliction.blocking


# --- phases ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseStatus:
    """The phase in force at an instant and when it started."""

    phase: Phase
    started_at: datetime


def phase_starts(
    agreement: Agreement, confirmations: Mapping[str, datetime]
) -> list[datetime | None]:
    """When each phase starts, given when each condition was confirmed (None: not yet).

    Phases follow one another in order: a phase starts at the latest of the previous phase's
    start, the agreement's start plus its ``after``, and the confirmation of each of its
    conditions. A phase whose condition is unconfirmed has not started, nor have those after it.
    """
    starts: list[datetime | None] = []
    previous: datetime | None = agreement.starts_at
    for phase in agreement.phases:
        if previous is None:
            starts.append(None)
            continue
        candidates = [previous, agreement.starts_at + phase.starts.after]
        missing = False
        for condition in phase.starts.confirmed:
            when = confirmations.get(condition)
            if when is None:
                missing = True
                break
            candidates.append(when)
        start = None if missing else max(candidates)
        starts.append(start)
        previous = start
    return starts


def phase_at(
    agreement: Agreement, at: datetime, confirmations: Mapping[str, datetime]
) -> PhaseStatus | None:
    """The phase in force at ``at`` (None before the agreement starts).

    A confirmation dated after ``at`` is not known at ``at`` and does not count.

    >>> from datetime import timedelta
    >>> from accord.agreement import load_agreement
    >>> from accord.examples import example_path
    >>> a = load_agreement(example_path("jig.yaml"))
    >>> phase_at(a, a.starts_at + timedelta(days=1), {}).phase.id
    'truce'
    """
    known = {k: v for k, v in confirmations.items() if v <= at}
    current: PhaseStatus | None = None
    for phase, start in zip(agreement.phases, phase_starts(agreement, known), strict=True):
        if start is None or start > at:
            break
        current = PhaseStatus(phase=phase, started_at=start)
    return current


# --- semantic checks ------------------------------------------------------------------------


def _semantic_issues(agreement: Agreement) -> Iterator[tuple[tuple[str | int, ...], str]]:
    seen: dict[str, str] = {}
    for group in ("parties", "notifiers", "monitors", "operators"):
        members: list[Member] = getattr(agreement, group)
        for i, member in enumerate(members):
            if member.id.casefold() == CENTER:
                yield (group, i, "id"), f"id {member.id!r} is reserved: it names the center itself"
            elif member.id.casefold() == UNKNOWN:
                yield (
                    (group, i, "id"),
                    f"id {member.id!r} is reserved: it names aircraft no declaration identifies",
                )
            elif member.id in seen:
                yield (group, i, "id"), f"id {member.id!r} is already used in {seen[member.id]}"
            else:
                seen[member.id] = group
    yield from _root_issues(agreement)
    yield from _witness_issues(agreement)
    for cid in agreement.categories:
        if cid in seen:
            yield ("categories", cid), f"category id {cid!r} is also a member id"
    condition_ids: set[str] = set()
    for i, condition in enumerate(agreement.conditions):
        if condition.id in condition_ids:
            yield ("conditions", i, "id"), f"duplicate condition id {condition.id!r}"
        condition_ids.add(condition.id)
        for j, who in enumerate(condition.confirmed_by):
            if who not in seen:
                yield ("conditions", i, "confirmed_by", j), f"unknown member {who!r}"
    phase_ids: set[str] = set()
    for i, phase in enumerate(agreement.phases):
        if phase.id in phase_ids:
            yield ("phases", i, "id"), f"duplicate phase id {phase.id!r}"
        phase_ids.add(phase.id)
        for j, cid in enumerate(phase.categories):
            if cid not in agreement.categories:
                known = ", ".join(sorted(agreement.categories))
                yield ("phases", i, "categories", j), f"unknown category {cid!r} (known: {known})"
        for j, cond in enumerate(phase.starts.confirmed):
            if cond not in condition_ids:
                yield ("phases", i, "starts", "confirmed", j), f"unknown condition {cond!r}"
        if i > 0 and phase.starts.after < agreement.phases[i - 1].starts.after:
            yield (
                ("phases", i, "starts", "after"),
                "a phase cannot be set to start before the phase it follows",
            )
    area_ids: set[str] = set()
    operators = agreement.operator_ids
    for i, area in enumerate(agreement.designated_areas):
        if area.id in area_ids:
            yield ("designated_areas", i, "id"), f"duplicate designated area id {area.id!r}"
        area_ids.add(area.id)
        for j, (lon, lat) in enumerate(area.polygon):
            if not -180.0 <= lon <= 180.0:
                yield ("designated_areas", i, "polygon", j), f"longitude {lon} outside ±180"
            if not -90.0 <= lat <= 90.0:
                yield ("designated_areas", i, "polygon", j), f"latitude {lat} outside ±90"
        ring = list(area.polygon)
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        if len(ring) < 4:
            yield ("designated_areas", i, "polygon"), "a polygon needs at least 3 distinct corners"
        else:
            polygon = shapely.Polygon(ring)
            if not shapely.is_valid(polygon):
                reason = shapely.is_valid_reason(polygon)
                yield ("designated_areas", i, "polygon"), f"invalid polygon: {reason}"
        for j, op in enumerate(area.restricted_operators):
            if op not in operators and op != UNKNOWN:
                yield (
                    ("designated_areas", i, "restricted_operators", j),
                    f"unknown operator {op!r} (declare it under parties or operators; "
                    f"{UNKNOWN!r} restricts aircraft no declaration identifies)",
                )


def _witness_issues(agreement: Agreement) -> Iterator[tuple[tuple[str | int, ...], str]]:
    names: dict[str, str] = {}
    for group in ("notifiers", "monitors", "operators"):
        for i, member in enumerate(getattr(agreement, group)):
            if member.witness is not None:
                yield (group, i, "witness"), "only a party names a witness"
    for i, party in enumerate(agreement.parties):
        witness = party.witness
        if witness is None:
            continue
        key = witness.key
        if key.name != witness.name:
            yield (
                ("parties", i, "witness", "vkey"),
                f"the key is named {key.name!r}, not {witness.name!r}",
            )
        elif witness.name in names:
            yield (
                ("parties", i, "witness", "name"),
                f"{witness.name!r} is already {names[witness.name]}'s witness",
            )
        else:
            names[witness.name] = party.id


def _root_issues(agreement: Agreement) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if not agreement.rooted:
        for i, operator in enumerate(agreement.operators):
            if operator.root_key is not None:
                yield ("operators", i, "root_key"), "an operator signs nothing: no root key"
        return
    seen: dict[str, str] = {}
    for group in ("parties", "notifiers", "monitors", "operators"):
        for i, member in enumerate(getattr(agreement, group)):
            where = (group, i, "root_key")
            if group == "operators":
                if member.root_key is not None:
                    yield where, "an operator signs nothing: no root key"
                continue
            if member.root_key is None:
                yield where, "every party, notifier and monitor names its root key, or none does"
                continue
            try:
                key, sig_type = PublicKey.from_vkey(member.root_key)
            except (FormatError, ValueError) as error:
                yield where, f"not a signed-note verifier key: {error}"
                continue
            if sig_type != SIG_ED25519:
                yield where, "must be an Ed25519 verifier key (type 0x01)"
            elif key.name != member.id:
                yield where, f"the key is named {key.name!r}, not {member.id!r}"
            elif key.key_id in seen:
                yield where, f"the same key as {seen[key.key_id]}'s"
            else:
                seen[key.key_id] = member.id


# --- YAML with line numbers -----------------------------------------------------------------


def _duplicate_keys(node: yaml.Node, path: tuple[str | int, ...]) -> Iterator[Issue]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield Issue(
                    field=field_path((*path, key)),
                    message="key appears twice",
                    line=key_node.start_mark.line + 1,
                )
            seen.add(key)
            yield from _duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, i))


def _line_of(root: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The line of the deepest node of ``path`` that exists in the YAML tree."""
    if root is None:
        return None
    node: yaml.Node = root
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    child = value_node
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            continue  # a discriminator tag or a missing field: stay on the parent
        node = child
    return int(node.start_mark.line) + 1


def _clean_loc(loc: Sequence[str | int], data: Any) -> tuple[str | int, ...]:
    """Drop pydantic's discriminator tags and type names from an error location."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, Mapping):
            if part in node:
                out.append(part)
                node = node[part]
            elif isinstance(part, str) and part.startswith(("function-", "[")):
                continue
            elif node.get("rule") == part:
                continue  # discriminated union tag
            else:
                out.append(part)
                node = None
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            out.append(part)
            node = None
    return tuple(out)


def load_agreement_text(text: str, *, source: str = "<agreement>") -> Agreement:
    """Validate YAML text as an agreement; raise :class:`AgreementError` naming every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except RecursionError:
        raise AgreementError(source, [Issue("", "not valid YAML: nested too deeply")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise AgreementError(source, [Issue("", f"not valid YAML: {problem}", line=line)]) from None
    if root is not None:
        duplicates = list(_duplicate_keys(root, ()))
        if duplicates:
            raise AgreementError(source, duplicates)
    if not isinstance(data, dict):
        raise AgreementError(source, [Issue("", "the agreement must be a YAML mapping", line=1)])
    try:
        agreement = Agreement.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = _clean_loc(err["loc"], data)
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc = (*loc, "rule")
            issues.append(Issue(field_path(loc), err["msg"], line=_line_of(root, loc)))
        raise AgreementError(source, issues) from None
    semantic = [
        Issue(field_path(path), message, line=_line_of(root, path))
        for path, message in _semantic_issues(agreement)
    ]
    if semantic:
        raise AgreementError(source, semantic)
    return agreement


def load_agreement(path: str | Path) -> Agreement:
    """Read and validate an agreement file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgreementError(str(path), [Issue("", f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise AgreementError(str(path), [Issue("", "the file is not UTF-8 text")]) from None
    return load_agreement_text(text, source=str(path))
