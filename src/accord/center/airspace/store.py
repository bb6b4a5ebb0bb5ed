"""Airspace alerts as the center keeps them: one row per *group* (the alerts raised together
in one record entry), each alert a fixed-size record of numbers in its group's packed arrays.

A cluster of N aircraft in one spot is about N²/2 predicted losses of separation, each an
alert a reader can list, look up, acknowledge (by its group) and see cleared. Kept as one row
each with a JSON payload, they made the writer's time O(pairs) with a large constant (500
aircraft: 124,750 rows, 10–12 s in the writer, most of it building, encoding and inserting
them). Here the alerts of a group share one row
(:class:`~accord.center.db.models_airspace.AirspaceAlertGroup`): the group's aircraft once, as
JSON, and per alert one record of :data:`FINDING` (which aircraft, the numbers; 109 bytes)
and one of :data:`STATE` (when last seen, when cleared and by which entry; 24 bytes), packed
little-endian and written and read as whole numpy arrays. A group holds at most what one
record entry lists (DECISIONS 12: 64 KiB, a few thousand findings), so rewriting one is
bounded. The alert routes derive each alert from its group on read: alert ``<group>.<n>`` is
finding ``n``; a group stored before groups existed (``grouped`` false) is one alert whose id
is the group's.

``FINDING`` fields (NaN or 0 where a kind has none):

* ``a``, ``b`` — the aircraft (or flight plans), as indices into the group's ``aircraft``: a
  conflict's two in the order of their keys; an area finding's one (``b`` -1);
* ``p`` — the parties concerned, as an index into the group's ``party_sets``;
* ``flag`` — a conflict: separation is lost now; an area finding: the aircraft is inside;
* ``t_los`` — when separation is lost, or the aircraft enters the area (whole seconds since
  1970); ``t_until``, ``t_cpa`` — a flight-plan conflict's end and closest approach (0: none);
* ``tcpa`` (s, to 0.1), ``dcpa`` (NM, to 0.01), ``vert`` (ft) — at the closest approach;
* ``x``, ``y`` — a conflict's place (between the two at the closest approach), an area
  finding's entry point (lon, lat, to 1e-6 degree); ``xa``, ``ya``, ``xb``, ``yb`` — where each
  aircraft of a conflict is when separation is lost (what a reader who sees only its own is
  shown).

>>> f = np.zeros(2, dtype=FINDING); f["a"], f["b"] = [0, 0], [1, 2]
>>> unpack(pack(f), FINDING)["b"].tolist(), FINDING.itemsize, STATE.itemsize
([1, 2], 109, 24)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from accord.center import visibility
from accord.center.db.models_airspace import AirspaceAlertGroup, AirspaceAlertRecipient
from accord.center.roles import Role
from accord.chrono import micros

__all__ = [
    "FINDING",
    "GROUPS",
    "NO_ENTRY",
    "OPEN",
    "RECIPIENTS",
    "STATE",
    "Group",
    "group_values",
    "id_order",
    "instant",
    "load_groups",
    "micros",
    "pack",
    "split_alert_id",
    "unpack",
]

FINDING = np.dtype(
    [
        ("a", "<i4"),
        ("b", "<i4"),
        ("p", "<i4"),
        ("flag", "u1"),
        ("t_los", "<i8"),
        ("t_until", "<i8"),
        ("t_cpa", "<i8"),
        ("tcpa", "<f8"),
        ("dcpa", "<f8"),
        ("vert", "<f8"),
        ("x", "<f8"),
        ("y", "<f8"),
        ("xa", "<f8"),
        ("ya", "<f8"),
        ("xb", "<f8"),
        ("yb", "<f8"),
    ],
    align=False,
)
"""One alert's finding (see the module docstring)."""

STATE = np.dtype([("seen", "<i8"), ("cleared", "<i8"), ("cleared_entry", "<i8")])
"""One alert's state: ``seen`` (µs since 1970) when its numbers were last kept current,
``cleared`` (µs since 1970; :data:`OPEN` while open) and ``cleared_entry`` (the
``airspace.cleared`` entry naming it; :data:`NO_ENTRY`: none)."""

OPEN = int(np.iinfo(np.int64).min)
NO_ENTRY = -1

NUMBERS = tuple(name for name in FINDING.names or () if name not in ("a", "b", "p"))
"""The fields of :data:`FINDING` a pass keeps current (the rest names what it is about)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GROUPS = _TABLE = cast(Table, AirspaceAlertGroup.__table__)
"""The alert groups' table (Core: a pass reads and writes them in bulk)."""
RECIPIENTS = cast(Table, AirspaceAlertRecipient.__table__)
"""Each group's parties concerned: acknowledgement deadline and escalation state."""
_META = tuple(c for c in _TABLE.c if c.name not in ("findings", "state"))

Array = npt.NDArray[Any]
BoolArray = npt.NDArray[np.bool_]


def pack(array: Array) -> bytes:
    """A structured array's bytes, as stored."""
    return array.tobytes()


def unpack(data: bytes, dtype: np.dtype[Any]) -> Array:
    """A stored array, writeable (a pass changes the copy it read, then writes it back)."""
    return np.frombuffer(data, dtype=dtype).copy()


def instant(us: int) -> datetime:
    """The aware instant ``us`` microseconds after 1970 (exactly)."""
    return _EPOCH + timedelta(microseconds=int(us))


@lru_cache(maxsize=64)
def id_order(count: int) -> tuple[int, ...]:
    """The findings ``0 … count-1`` of a group in the order of their alert ids as text
    (``.0``, ``.1``, ``.10``, ``.100``, …, ``.2``): the order the alert lists keep.

    >>> id_order(12)
    (0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9)
    """
    return tuple(sorted(range(count), key=str))


def split_alert_id(alert_id: str) -> tuple[str, int | None]:
    """``(group, n)`` of an alert id ``<group>.<n>``; ``(id, None)`` of a group's id or of an
    alert stored before groups (its id is its group's).

    >>> split_alert_id("a-0123456789.12"), split_alert_id("a-0123456789abcdef")
    (('a-0123456789', 12), ('a-0123456789abcdef', None))
    """
    group, dot, n = alert_id.partition(".")
    if not dot:
        return alert_id, None
    return group, int(n) if n.isdigit() else -1


@dataclass(slots=True, eq=False)
class Group:
    """A stored group, decoded (``findings`` and ``state`` empty when read without them)."""

    id: str
    kind: str
    source: str
    grouped: bool
    area: str | None
    parties: list[str]
    party_sets: list[list[str]]
    aircraft: list[dict[str, Any]]
    count: int
    open: int
    raised_at: datetime
    content_hash: str
    entry: int
    sealed: str
    findings: Array = field(default_factory=lambda: np.zeros(0, dtype=FINDING))
    state: Array = field(default_factory=lambda: np.zeros(0, dtype=STATE))

    def alert_id(self, n: int) -> str:
        """The id of alert ``n`` of the group."""
        return f"{self.id}.{n}" if self.grouped else self.id

    @property
    def sort_key(self) -> str:
        """What orders the group's alerts' ids among other groups' (of equal ``raised_at``):
        ``<group>.`` is the common prefix of its alerts' ids; an ungrouped alert's is its id."""
        return f"{self.id}." if self.grouped else self.id

    def is_open(self) -> BoolArray:
        return cast(BoolArray, self.state["cleared"] == OPEN)

    def readable(self, member: str, role: Role) -> BoolArray:
        """Which alerts of the group a reader (``member``, ``role``) may read: the policy's
        :func:`~accord.center.visibility.sees_alert`, asked once per distinct set of parties
        concerned (a party's those concerning it, a monitor's all; nobody's an exempt
        passage)."""
        if not self.may_read_any(member, role):
            return np.zeros(self.count, dtype=np.bool_)
        reader = visibility.Viewer(member, role)
        mine = np.array(
            [visibility.sees_alert(reader, kind=self.kind, parties=s) for s in self.party_sets],
            dtype=np.bool_,
        )
        return cast(BoolArray, mine[self.findings["p"]])

    def may_read_any(self, member: str, role: Role) -> bool:
        """Whether the reader may read some alert of the group (without its arrays): the
        policy's :func:`~accord.center.visibility.sees_alert` of the group's parties."""
        reader = visibility.Viewer(member, role)
        return visibility.sees_alert(reader, kind=self.kind, parties=self.parties)


def _group(row: Any, blobs: bool) -> Group:
    group = Group(
        id=row.id,
        kind=row.kind,
        source=row.source,
        grouped=bool(row.grouped),
        area=row.area,
        parties=json.loads(row.parties),
        party_sets=json.loads(row.party_sets),
        aircraft=json.loads(row.aircraft),
        count=row.count,
        open=row.open,
        raised_at=row.raised_at,
        content_hash=row.content_hash,
        entry=row.entry,
        sealed=row.sealed,
    )
    if blobs:
        group.findings = unpack(row.findings, FINDING)
        group.state = unpack(row.state, STATE)
    return group


def load_groups(session: Session, *where: Any, blobs: bool = True) -> list[Group]:
    """The stored groups matching ``where`` (their arrays too unless ``blobs`` is false)."""
    columns = (*_META, _TABLE.c.findings, _TABLE.c.state) if blobs else _META
    return [_group(row, blobs) for row in session.execute(select(*columns).where(*where))]


def load_named(session: Session, ids: Iterable[str], *, blobs: bool = True) -> dict[str, Group]:
    """The groups ``ids`` that exist, by id (in chunks of 500)."""
    wanted = sorted(set(ids))
    out: dict[str, Group] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for g in load_groups(session, _TABLE.c.id.in_(chunk), blobs=blobs):
            out[g.id] = g
    return out


def group_values(group: Group) -> dict[str, Any]:
    """The row of ``group``, as columns."""
    return {
        "id": group.id,
        "kind": group.kind,
        "source": group.source,
        "grouped": group.grouped,
        "area": group.area,
        "parties": json.dumps(group.parties),
        "party_sets": json.dumps(group.party_sets, separators=(",", ":")),
        "aircraft": json.dumps(group.aircraft, separators=(",", ":")),
        "findings": pack(group.findings),
        "state": pack(group.state),
        "count": group.count,
        "open": group.open,
        "raised_at": group.raised_at,
        "content_hash": group.content_hash,
        "entry": group.entry,
        "sealed": group.sealed,
    }


def in_order(groups: Sequence[Group]) -> list[Group]:
    """``groups`` newest first, then in the order of their alerts' ids."""
    return sorted(sorted(groups, key=lambda g: g.sort_key), key=lambda g: g.raised_at, reverse=True)
