"""Reading one CoT event, safely: a hostile sender's bytes become an :class:`Event` or a
:class:`~accord.errors.CotError` naming the element or attribute and the event's uid.

The XML is read by Python's expat through ``defusedxml``'s parser with every dangerous
feature refused outright: a DTD of any kind (so no entity can be declared: no billion
laughs, no quadratic blowup), an external entity or reference (no XXE to ``file://`` or
``http://``); expat itself expands no entity but the five predefined and character
references, and never loads anything. On top, while the tree is built: at most
``max_depth`` levels and ``max_elements`` elements (checked as each start tag is read, so a
deep or wide document is stopped at the limit, not after), and the whole event at most
``max_bytes``. Only UTF-8 is read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from accord.chrono import parse_instant
from accord.cot.framing import MAX_EVENT_BYTES
from accord.cot.model import (
    MAX_UID,
    UNKNOWN_FROM,
    AccordMark,
    Detail,
    Ellipse,
    Event,
    Group,
    Link,
    LinkPoint,
    Point,
    TakControl,
    Takv,
    Track,
)
from accord.errors import CotError

__all__ = ["Limits", "parse_event"]

_NUMBER = re.compile(r"^[+-]?(?:\d{1,20}(?:\.\d{0,20})?|\.\d{1,20})(?:[eE][+-]?\d{1,3})?$")
_INTEGER = re.compile(r"^\d{1,18}$")
_DECLARATION = re.compile(rb"^\s*<\?xml[^<>]{0,200}\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one event may hold. ``max_extra`` unknown detail elements are kept (their XML
    text, ``max_extra_bytes`` in all); more are left out, not refused."""

    max_bytes: int = MAX_EVENT_BYTES
    max_depth: int = 16
    max_elements: int = 4096
    max_extra: int = 32
    max_extra_bytes: int = 8192


class _Refused(Exception):
    """Raised inside the tree builder to stop expat at once; caught in :func:`parse_event`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _Builder:
    """ElementTree's builder, counting as it goes (expat calls it per start tag)."""

    def __init__(self, limits: Limits) -> None:
        self._tree = ET.TreeBuilder()
        self._limits = limits
        self.depth = 0
        self.count = 0
        self.uid: str | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth += 1
        self.count += 1
        if self.count == 1:
            uid = attrs.get("uid")
            self.uid = uid[:MAX_UID] if isinstance(uid, str) and uid else None
        if self.depth > self._limits.max_depth:
            raise _Refused(tag, f"nested deeper than {self._limits.max_depth} levels")
        if self.count > self._limits.max_elements:
            raise _Refused(tag, f"the event holds more than {self._limits.max_elements} elements")
        return self._tree.start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return self._tree.end(tag)

    def data(self, data: str) -> None:
        self._tree.data(data)

    def close(self) -> ET.Element:
        return self._tree.close()


def _xml(data: bytes, limits: Limits) -> tuple[ET.Element, str | None]:
    if len(data) > limits.max_bytes:
        raise CotError("event", f"is {len(data)} bytes; at most {limits.max_bytes}")
    head = _DECLARATION.match(data)
    if head is not None:
        encoding = _ENCODING.search(head.group(0))
        if encoding is not None and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            raise CotError("xml", "only UTF-8 is read")
    builder = _Builder(limits)
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(data)
        root = parser.close()
    except _Refused as refused:
        raise CotError(refused.field, refused.message, uid=builder.uid) from None
    except DefusedXmlException as refused:
        raise CotError(
            "xml",
            f"a DTD, entity or external reference is refused ({type(refused).__name__})",
            uid=builder.uid,
        ) from None
    except ET.ParseError as bad:
        raise CotError("xml", f"not well-formed XML ({bad})", uid=builder.uid) from None
    return root, builder.uid


# --- attributes ----------------------------------------------------------------------------


class _Reader:
    """Reads one event's tree, naming every bad field with the event's uid."""

    def __init__(self, uid: str | None) -> None:
        self.uid = uid

    def bad(self, where: str, message: str) -> CotError:
        return CotError(where, message, uid=self.uid)

    def make(self, build: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``build(*args, **kwargs)``: a model value, its own check's error given the event's
        uid."""
        try:
            return build(*args, **kwargs)
        except CotError as error:
            raise self.bad(error.field, error.issues[0].message) from None

    def text(self, el: ET.Element, where: str, name: str, *, required: bool = False) -> str | None:
        value = el.get(name)
        if value is None and required:
            raise self.bad(f"{where}@{name}", "is required")
        return value

    def number(
        self, el: ET.Element, where: str, name: str, *, required: bool = False
    ) -> float | None:
        value = el.get(name)
        if value is None:
            if required:
                raise self.bad(f"{where}@{name}", "is required")
            return None
        return self.parse_number(f"{where}@{name}", value)

    def parse_number(self, where: str, value: str) -> float:
        text = value.strip()
        if not _NUMBER.match(text):
            raise self.bad(where, f"{value[:40]!r} is not a decimal number")
        return float(text)

    def unknowable(self, el: ET.Element, where: str, name: str) -> float | None:
        value = self.number(el, where, name)
        return None if value is None or value >= UNKNOWN_FROM else value

    def instant(self, el: ET.Element, name: str) -> datetime:
        value = self.text(el, "event", name, required=True)
        assert value is not None
        try:
            return parse_instant(value.strip())
        except ValueError as error:
            raise self.bad(f"event@{name}", str(error)) from None

    def integer(self, el: ET.Element, where: str, name: str) -> int | None:
        value = el.get(name)
        if value is None:
            return None
        if not _INTEGER.match(value.strip()):
            raise self.bad(f"{where}@{name}", f"{value[:40]!r} is not a whole number")
        return int(value.strip())


# --- the event -----------------------------------------------------------------------------


def parse_event(data: bytes, *, limits: Limits = Limits()) -> Event:
    """One event's bytes (as :class:`~accord.cot.framing.EventSplitter` cuts them, or with an
    XML declaration before) to an :class:`Event`; raises :class:`~accord.errors.CotError`."""
    root, uid = _xml(data, limits)
    r = _Reader(uid)
    if root.tag != "event":
        raise r.bad(root.tag[:40], "the document is not a CoT <event>")
    point_el = root.find("point")
    if point_el is None:
        raise r.bad("point", "is required")
    if len(root.findall("point")) > 1 or len(root.findall("detail")) > 1:
        raise r.bad("event", "holds one point and at most one detail")
    point = r.make(
        lambda: Point(
            lat=r.number(point_el, "point", "lat", required=True) or 0.0,
            lon=r.number(point_el, "point", "lon", required=True) or 0.0,
            hae=r.unknowable(point_el, "point", "hae"),
            ce=r.unknowable(point_el, "point", "ce"),
            le=r.unknowable(point_el, "point", "le"),
        )
    )
    detail_el = root.find("detail")
    detail = Detail() if detail_el is None else _detail(r, detail_el, limits)
    uid_text = r.text(root, "event", "uid", required=True)
    type_text = r.text(root, "event", "type", required=True)
    how_text = r.text(root, "event", "how", required=True)
    time, start, stale = r.instant(root, "time"), r.instant(root, "start"), r.instant(root, "stale")
    return r.make(
        lambda: Event(
            uid=uid_text or "",
            type=(type_text or "").strip(),
            how=(how_text or "").strip(),
            time=time,
            start=start,
            stale=stale,
            point=point,
            detail=detail,
        )
    )


def _link_point(r: _Reader, where: str, text: str) -> LinkPoint:
    parts = text.split(",")
    if len(parts) not in (2, 3):
        raise r.bad(where, f"{text[:60]!r} is not 'lat,lon' or 'lat,lon,hae'")
    numbers = [r.parse_number(where, part) for part in parts]
    hae = numbers[2] if len(numbers) == 3 and numbers[2] < UNKNOWN_FROM else None
    return r.make(LinkPoint, numbers[0], numbers[1], hae)


def _detail(r: _Reader, el: ET.Element, limits: Limits) -> Detail:
    callsign: str | None = None
    track: Track | None = None
    remarks: str | None = None
    links: list[Link] = []
    ellipse: Ellipse | None = None
    group: Group | None = None
    takv: Takv | None = None
    accord: AccordMark | None = None
    takcontrol: TakControl | None = None
    extra: list[str] = []
    extra_bytes = 0
    for child in el:
        tag = child.tag
        where = f"detail/{tag}"
        if tag == "contact" and callsign is None:
            callsign = child.get("callsign")
        elif tag == "track" and track is None:
            course = r.number(child, where, "course", required=True) or 0.0
            speed = r.number(child, where, "speed", required=True) or 0.0
            track = r.make(Track, course, speed)
        elif tag == "remarks" and remarks is None:
            remarks = "".join(child.itertext())
        elif tag == "link":
            at = f"detail/link[{len(links)}]"
            text = child.get("point")
            point = None if text is None else _link_point(r, f"{at}@point", text)
            links.append(
                r.make(
                    Link,
                    uid=child.get("uid"),
                    type=child.get("type"),
                    relation=child.get("relation"),
                    point=point,
                )
            )
        elif tag == "shape" and ellipse is None:
            shape = child.find("ellipse")
            if shape is not None:
                at = "detail/shape/ellipse"
                major = r.number(shape, at, "major", required=True) or 0.0
                minor = r.number(shape, at, "minor", required=True) or 0.0
                angle = r.number(shape, at, "angle") or 0.0
                ellipse = r.make(Ellipse, major, minor, angle)
        elif tag == "__group" and group is None:
            group = Group(name=child.get("name", ""), role=child.get("role", ""))
        elif tag == "takv" and takv is None:
            takv = Takv(
                device=child.get("device", ""),
                platform=child.get("platform", ""),
                os=child.get("os", ""),
                version=child.get("version", ""),
            )
        elif tag == "accord" and accord is None:
            accord_id = r.text(child, where, "id", required=True) or ""
            index = r.integer(child, where, "index")
            accord = r.make(AccordMark, accord_id, index)
        elif tag == "TakControl" and takcontrol is None:
            takcontrol = _takcontrol(r, child)
        elif len(extra) < limits.max_extra:
            child.tail = None
            text = ET.tostring(child, encoding="unicode")
            # never kept: an element that, written out, would end a stream's event early
            if "</event" in text:
                continue
            if extra_bytes + len(text) <= limits.max_extra_bytes:
                extra.append(text)
                extra_bytes += len(text)
    return Detail(
        callsign=callsign,
        track=track,
        remarks=remarks,
        links=tuple(links),
        ellipse=ellipse,
        group=group,
        takv=takv,
        accord=accord,
        takcontrol=takcontrol,
        extra=tuple(extra),
    )


def _takcontrol(r: _Reader, el: ET.Element) -> TakControl:
    where = "detail/TakControl"
    support: list[int] = []
    for item in el.findall("TakProtocolSupport"):
        version = r.integer(item, f"{where}/TakProtocolSupport", "version")
        if version is None:
            raise r.bad(f"{where}/TakProtocolSupport@version", "is required")
        support.append(version)
    requests = el.findall("TakRequest")
    responses = el.findall("TakResponse")
    if len(requests) > 1 or len(responses) > 1:
        raise r.bad(where, "holds one TakRequest and one TakResponse at most")
    request = None
    if requests:
        request = r.integer(requests[0], f"{where}/TakRequest", "version")
        if request is None:
            raise r.bad(f"{where}/TakRequest@version", "is required")
    response = None
    if responses:
        status = (responses[0].get("status") or "").strip().lower()
        if status not in ("true", "false"):
            raise r.bad(f"{where}/TakResponse@status", "is 'true' or 'false'")
        response = status == "true"
    return r.make(TakControl, tuple(support), request, response)
