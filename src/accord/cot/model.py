"""The Cursor on Target event as Accord reads and writes it: frozen values, validated.

An event (the CoT base schema, ``Event.xsd``/``Point.xsd`` of MITRE's CoT 2.0 message
definition, as TAK writes it) is a ``uid``, a ``type`` (the "atom" hierarchy: ``a-f-G-U-C`` is
an atom, friendly, ground, unit, combat), a ``how`` (``m-g``: machine, GPS; ``h-e``: human,
estimated), three instants (``time`` it was made, ``start`` and ``stale``: when it holds), a
``point`` (WGS84 ``lat``/``lon`` in degrees, ``hae`` height above the ellipsoid in metres,
``ce``/``le`` the circular and linear 1-sigma errors in metres; ``9999999.0`` means unknown)
and a ``detail`` of free elements. Of the detail Accord keeps the pieces it uses (the ones TAK
clients send and render: ``contact``, ``track``, ``remarks``, ``link``, ``shape/ellipse``,
``__group``, ``takv``, ``TakControl``), its own ``accord`` element (the Accord id and record
index the center adds to what it sends), and the rest opaque and bounded.

Every value here is checked when it is made: a bad one raises :class:`~accord.errors.CotError`
naming the element and attribute (``point@lat``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from accord.errors import CotError

__all__ = [
    "UNKNOWN",
    "AccordMark",
    "Detail",
    "Ellipse",
    "Event",
    "Group",
    "Link",
    "LinkPoint",
    "Point",
    "TakControl",
    "Takv",
    "Track",
    "is_air",
    "is_delete",
    "is_drawn_shape",
    "is_friendly",
    "is_friendly_ground",
    "is_takp",
]

UNKNOWN = 9999999.0
"""CoT's "unknown" for ``hae``, ``ce`` and ``le``. A value of :data:`UNKNOWN_FROM` or more
reads as unknown (``None`` in the model): TAK's own control messages write ``999999``."""

UNKNOWN_FROM = 999999.0

MAX_HAE_M = 100_000.0
"""Heights above the ellipsoid Accord takes (metres): from far below any shore to the edge
of space; anything else is a wrong number, not a position."""
MIN_HAE_M = -12_000.0
MAX_SPEED_MPS = 10_000.0
MAX_RADIUS_M = 10_000_000.0

_TYPE = re.compile(r"^[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*$")
MAX_TYPE = 64
MAX_INTEGER = 10**18
"""Whole numbers (a record index, a protocol version) are below this: 18 digits at most."""
MAX_UID = 256

DELETE = "t-x-d-d"
DRAWN_SHAPES = frozenset({"u-d-f", "u-d-r", "u-d-c-c"})
"""Drawn shapes: a free polygon or line (``u-d-f``), a rectangle (``u-d-r``), a circle
(``u-d-c-c``)."""


# --- the type atom -------------------------------------------------------------------------


def is_friendly(cot_type: str) -> bool:
    """An atom of friendly affiliation, any dimension (``a-f-*``).

    >>> is_friendly("a-f-G-U-C"), is_friendly("a-h-G"), is_friendly("a-f")
    (True, False, True)
    """
    parts = cot_type.split("-")
    return len(parts) >= 2 and parts[0] == "a" and parts[1] == "f"


def is_friendly_ground(cot_type: str) -> bool:
    """A friendly ground atom (``a-f-G`` and below).

    >>> is_friendly_ground("a-f-G-U-C"), is_friendly_ground("a-f-A-M-F")
    (True, False)
    """
    parts = cot_type.split("-")
    return len(parts) >= 3 and parts[:3] == ["a", "f", "G"]


def is_air(cot_type: str) -> bool:
    """An atom in the air, of any affiliation (``a-*-A`` and below).

    >>> is_air("a-f-A-M-F-Q"), is_air("a-h-A"), is_air("a-f-G")
    (True, True, False)
    """
    parts = cot_type.split("-")
    return len(parts) >= 3 and parts[0] == "a" and parts[2] == "A"


def is_drawn_shape(cot_type: str) -> bool:
    """A shape an operator drew: ``u-d-f``, ``u-d-r`` or ``u-d-c-c``."""
    return cot_type in DRAWN_SHAPES


def is_delete(cot_type: str) -> bool:
    """The delete of another event (``t-x-d-d``, naming it in a ``link``)."""
    return cot_type == DELETE


def is_takp(cot_type: str) -> bool:
    """TAK protocol control (``t-x-takp-v``, ``-q``, ``-r``)."""
    return cot_type.startswith("t-x-takp-")


# --- checks --------------------------------------------------------------------------------


def _finite(where: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise CotError(where, f"must be a finite number, not {value!r}")


def _within(where: str, value: float, low: float, high: float) -> None:
    _finite(where, value)
    if not low <= value <= high:
        raise CotError(where, f"must lie in [{low:g}, {high:g}], not {value!r}")


def _unknowable(where: str, value: float | None, low: float, high: float) -> None:
    """A value that may be unknown (``None``); a number is never CoT's unknown itself."""
    if value is not None:
        _within(where, value, low, high)
        if value >= UNKNOWN_FROM:
            raise CotError(where, f"{value!r} is CoT's unknown: give None")


def _instant(where: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise CotError(where, "must be an instant with a UTC offset")


def _text(where: str, value: str | None, *, required: bool = False, most: int = 0) -> None:
    if value is None:
        if required:
            raise CotError(where, "is required")
        return
    if not isinstance(value, str):
        raise CotError(where, "must be text")
    if required and not value.strip():
        raise CotError(where, "must not be empty")
    if most and len(value) > most:
        raise CotError(where, f"is at most {most} characters")


def _atom(where: str, value: str) -> None:
    _text(where, value, required=True, most=MAX_TYPE)
    if not _TYPE.match(value):
        raise CotError(where, f"{value[:MAX_TYPE]!r} is no CoT type (e.g. a-f-G-U-C)")


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Point:
    """Where the event is: degrees, metres; ``None`` for CoT's unknown (``9999999.0``)."""

    lat: float
    lon: float
    hae: float | None = None
    ce: float | None = None
    le: float | None = None

    def __post_init__(self) -> None:
        _within("point@lat", self.lat, -90.0, 90.0)
        _within("point@lon", self.lon, -180.0, 180.0)
        _unknowable("point@hae", self.hae, MIN_HAE_M, MAX_HAE_M)
        _unknowable("point@ce", self.ce, 0.0, UNKNOWN_FROM)
        _unknowable("point@le", self.le, 0.0, UNKNOWN_FROM)


@dataclass(frozen=True, slots=True)
class Track:
    """Course (degrees true, ``[0, 360]``) and speed (metres a second)."""

    course: float
    speed: float

    def __post_init__(self) -> None:
        _within("detail/track@course", self.course, 0.0, 360.0)
        _within("detail/track@speed", self.speed, 0.0, MAX_SPEED_MPS)


@dataclass(frozen=True, slots=True)
class LinkPoint:
    """A vertex of a drawn shape (``link@point``: ``lat,lon`` or ``lat,lon,hae``)."""

    lat: float
    lon: float
    hae: float | None = None

    def __post_init__(self) -> None:
        _within("detail/link@point", self.lat, -90.0, 90.0)
        _within("detail/link@point", self.lon, -180.0, 180.0)
        _unknowable("detail/link@point", self.hae, MIN_HAE_M, MAX_HAE_M)


@dataclass(frozen=True, slots=True)
class Link:
    """A ``link``: a vertex of a drawn shape (``point``), or a reference to another event
    (``uid``, its ``type`` and the ``relation``: ``p-p`` parent, ``none`` for a delete)."""

    uid: str | None = None
    type: str | None = None
    relation: str | None = None
    point: LinkPoint | None = None

    def __post_init__(self) -> None:
        _text("detail/link@uid", self.uid, most=MAX_UID)
        _text("detail/link@type", self.type, most=MAX_TYPE)
        _text("detail/link@relation", self.relation, most=MAX_TYPE)


@dataclass(frozen=True, slots=True)
class Ellipse:
    """A circle's or ellipse's axes (``shape/ellipse``: ``major``, ``minor`` in metres,
    ``angle`` in degrees). A circle (``u-d-c-c``) has ``major == minor``, its radius."""

    major: float
    minor: float
    angle: float = 0.0

    def __post_init__(self) -> None:
        _within("detail/shape/ellipse@major", self.major, 0.0, MAX_RADIUS_M)
        _within("detail/shape/ellipse@minor", self.minor, 0.0, MAX_RADIUS_M)
        _within("detail/shape/ellipse@angle", self.angle, -360.0, 360.0)


@dataclass(frozen=True, slots=True)
class Group:
    """ATAK's team (``__group@name``: a colour) and role (``@role``: Team Member, HQ…)."""

    name: str = ""
    role: str = ""


@dataclass(frozen=True, slots=True)
class Takv:
    """The client's software (``takv``: device, platform, os, version)."""

    device: str = ""
    platform: str = ""
    os: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class AccordMark:
    """What the center adds to every event it sends: the Accord id of the object and the
    record index of the entry it was last changed by (``accord@id``, ``accord@index``).

    On an event *from* a device it is whatever the device sent, and means nothing."""

    id: str
    index: int | None = None

    def __post_init__(self) -> None:
        _text("detail/accord@id", self.id, required=True, most=MAX_UID)
        if self.index is not None and (
            isinstance(self.index, bool)
            or not isinstance(self.index, int)
            or not 0 <= self.index < MAX_INTEGER
        ):
            raise CotError("detail/accord@index", f"must be a whole number in [0, {MAX_INTEGER})")


@dataclass(frozen=True, slots=True)
class TakControl:
    """TAK protocol negotiation (``TakControl``): the versions a server supports
    (``TakProtocolSupport@version``, any number), the one a client asks for
    (``TakRequest@version``), a server's answer (``TakResponse@status``)."""

    support: tuple[int, ...] = ()
    request: int | None = None
    response: bool | None = None

    def __post_init__(self) -> None:
        for version in (*self.support, *(() if self.request is None else (self.request,))):
            if (
                isinstance(version, bool)
                or not isinstance(version, int)
                or not 0 <= version < MAX_INTEGER
            ):
                raise CotError("detail/TakControl", f"a version is a whole number, not {version!r}")


@dataclass(frozen=True, slots=True)
class Detail:
    """The pieces of ``detail`` Accord uses; ``extra`` the others as their XML text
    (each a whole element, bounded in number and size by the parser)."""

    callsign: str | None = None
    track: Track | None = None
    remarks: str | None = None
    links: tuple[Link, ...] = ()
    ellipse: Ellipse | None = None
    group: Group | None = None
    takv: Takv | None = None
    accord: AccordMark | None = None
    takcontrol: TakControl | None = None
    extra: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for text in self.extra:
            # written out as they are: each one element, never the end of an event
            if not (text.startswith("<") and text.endswith(">")) or "</event" in text:
                raise CotError("detail", "an extra element is one element's XML, no </event>")


@dataclass(frozen=True, slots=True)
class Event:
    """One CoT event. ``start <= stale``; instants are aware (UTC on parsing)."""

    uid: str
    type: str
    time: datetime
    start: datetime
    stale: datetime
    point: Point
    how: str = "m-g"
    detail: Detail = field(default=Detail())

    def __post_init__(self) -> None:
        _text("event@uid", self.uid, required=True, most=MAX_UID)
        _atom("event@type", self.type)
        _atom("event@how", self.how)
        _instant("event@time", self.time)
        _instant("event@start", self.start)
        _instant("event@stale", self.stale)
        if self.stale < self.start:
            raise CotError(
                "event@stale",
                f"is before start ({self.stale.isoformat()} < {self.start.isoformat()})",
            )
