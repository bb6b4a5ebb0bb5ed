"""Cursor on Target, the protocol core: what the center's TAK endpoint and a party's gateway
both use. Pure: no sockets, no clock (time is passed in), no service (an import contract
holds it: ``accord.cot`` imports nothing of ``accord.center``).

* :mod:`~accord.cot.framing` — a stream of events cut after ``</event>``, with a byte cap
  and resynchronisation;
* :mod:`~accord.cot.parse` — one event read safely (``defusedxml``: no DTD, no entity, no
  external reference; depth, element and size limits);
* :mod:`~accord.cot.model` — the event as frozen values, checked, and the type atom's tests;
* :mod:`~accord.cot.write` — events written, escaped, and the center's events built
  (markers, polygons, routes, circles, alerts, deletes), each with its Accord id and index;
* :mod:`~accord.cot.takp` — TAK protocol negotiation answered so that clients stay on XML;
* :mod:`~accord.cot.rate` — a token bucket per connection;
* :mod:`~accord.cot.position` — a friendly report as a position declaration's fields.

Sources followed: the CoT base schema (MITRE's "Cursor-on-Target Message Router User's Guide"
and the CoT 2.0 ``Event.xsd``/``Point.xsd``: ``uid``, ``type``, ``how``, ``time``,
``start``, ``stale``, ``point`` with ``lat``, ``lon``, ``hae``, ``ce``, ``le``, the
``9999999.0`` unknown), the ``detail`` sub-schemas as ATAK writes them (``contact``,
``track``, ``remarks``, ``link``, ``shape/ellipse``, ``__group``, ``takv``), and TAK's
``protocol.txt`` (commoncommo, as shipped in ``takproto``: the streaming framing and the
version negotiation ``t-x-takp-v``/``-q``/``-r``). ``pytak`` writes and reads CoT in the
tests, as an independent implementation.
"""

from __future__ import annotations

from accord.cot.framing import MAX_EVENT_BYTES, Dropped, EventSplitter
from accord.cot.model import (
    UNKNOWN,
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
    is_air,
    is_delete,
    is_drawn_shape,
    is_friendly,
    is_friendly_ground,
    is_takp,
)
from accord.cot.parse import Limits, parse_event
from accord.cot.position import position_declaration
from accord.cot.rate import TokenBucket
from accord.cot.takp import (
    XML,
    control_answer,
    protocol_response,
    protocol_support,
    requested_version,
)
from accord.cot.write import (
    alert_event,
    circle_event,
    delete_event,
    point_event,
    polygon_event,
    remarks_for,
    route_event,
    write_event,
)
from accord.errors import CotError

__all__ = [
    "MAX_EVENT_BYTES",
    "UNKNOWN",
    "XML",
    "AccordMark",
    "CotError",
    "Detail",
    "Dropped",
    "Ellipse",
    "Event",
    "EventSplitter",
    "Group",
    "Limits",
    "Link",
    "LinkPoint",
    "Point",
    "TakControl",
    "Takv",
    "TokenBucket",
    "Track",
    "alert_event",
    "circle_event",
    "control_answer",
    "delete_event",
    "is_air",
    "is_delete",
    "is_drawn_shape",
    "is_friendly",
    "is_friendly_ground",
    "is_takp",
    "parse_event",
    "point_event",
    "polygon_event",
    "position_declaration",
    "protocol_response",
    "protocol_support",
    "remarks_for",
    "requested_version",
    "route_event",
    "write_event",
]
