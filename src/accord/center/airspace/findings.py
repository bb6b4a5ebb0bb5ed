"""What one detection pass finds, as columns: the conflicts among the fresh tracks (the
detector with the agreement's minima and look-ahead,
:func:`accord.airspace.conflicts.track_conflicts`) and the designated-area findings
(:func:`accord.airspace.areas.track_area_findings`), held in numpy arrays over the detector's
pairs (:class:`Found`) — no Python object per pair.

Designated areas: an aircraft of a restricted operator inside an area closed to it, or
heading in within the look-ahead, without an exempt mission is an ``airspace.violation``
alert to every party (third-party operators are what areas are for) and a finding of
``GET /v1/compliance`` against the aircraft's party; an exempt mission is recorded once
(``airspace.exempt``) and alerts no one.

Emergency squawks: an aircraft whose Mode 3/A code is 7500, 7600 or 7700 is an
``airspace.emergency`` alert to every party, open while it squawks the code (a finding of
kind ``squawk`` whose "area" is ``squawk-CODE``). To a reader the aircraft is hidden from, it
says whose aircraft it is, the code and when — not where (DECISIONS 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from accord.agreement import Agreement
from accord.aircraft import EMERGENCY_SQUAWKS
from accord.airspace import Conflicts, Separation, TrackSet, detect_conflicts, track_area_findings
from accord.airspace.detect import EARTH_RADIUS_M
from accord.airspace.tracks import epoch_seconds
from accord.center import visibility
from accord.center.airspace.store import FINDING, micros
from accord.center.airspace.trackstore import Track, key_of, owner_of, reports_of
from accord.chrono import format_instant
from accord.rules import DesignatedAreaIndex
from accord.units import KT, NM

__all__ = [
    "AREA",
    "CONFLICT",
    "EXEMPT",
    "KINDS",
    "SQUAWK_PREFIX",
    "BoolArray",
    "Findings",
    "FloatArray",
    "Found",
    "IntArray",
    "TrackAircraft",
    "column",
    "finding_code",
    "found_of",
    "squawk_of",
    "track_found",
]

KINDS = ("area", "conflict", "exempt")
"""A finding's kind by its code (new groups are raised in this order)."""
AREA, CONFLICT, EXEMPT = 0, 1, 2
SQUAWK_PREFIX = "squawk-"
"""An emergency squawk is an ``area`` finding whose "area" is this prefix, then the code:
stored, kept current and cleared as an area finding is, and told as ``airspace.emergency``
(:func:`squawk_of`). No designated area id collides: ``-`` is no id's."""


def squawk_of(area: str | None) -> str | None:
    """The code of an emergency squawk's "area", ``None`` for a designated area.

    >>> squawk_of("squawk-7700"), squawk_of("accord.da-north")
    ('7700', None)
    """
    if area is not None and area.startswith(SQUAWK_PREFIX):
        return area.removeprefix(SQUAWK_PREFIX)
    return None


IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
Findings = npt.NDArray[Any]


@dataclass(slots=True, eq=False)
class Found:
    """What one detection pass found, before any cut, as columns: no Python object per
    finding (a cluster of N aircraft is N²/2 of them).

    ``aircraft``: each aircraft (or flight plan) a finding may name, as the center knows it
    (``key``, ``id``, ``owner``, ``operator``, ``party``, ``mission``, ``disclosure``; a
    track's ``reported_at`` and ``state`` too, which a commitment holds); ``rank``: each
    one's place in the order of the keys; ``shared``: whether it is ``shared``; ``owner``:
    its owner's index in ``owners`` (sorted). Per finding: ``kind`` (an index of
    :data:`KINDS`), ``area`` (an index of ``areas``; -1 for a conflict) and ``f``
    (:data:`~accord.center.airspace.store.FINDING`, whose ``a``, ``b`` index ``aircraft`` and
    ``p`` indexes ``party_sets``, the parties concerned)."""

    source: str
    aircraft: Sequence[dict[str, Any]]
    rank: IntArray
    shared: BoolArray
    owner: IntArray
    owners: list[str]
    areas: list[str]
    party_sets: list[list[str]]
    kind: IntArray
    area: IntArray
    f: Findings
    fill: Callable[[Findings, IntArray], None] | None = None
    filled: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.f.shape[0])

    def complete(self, k: IntArray) -> None:
        """Fill in the numbers of findings ``k`` (the first ``len(filled)`` are filled on
        demand, by ``fill``; the others were made whole)."""
        if self.fill is None or self.filled is None:
            return
        k = k[k < self.filled.shape[0]]
        k = k[~self.filled[k]]
        if k.size:
            self.fill(self.f, k)
            self.filled[k] = True

    def codes(self) -> IntArray:
        """Each finding's identity within the pass (kind, aircraft, other aircraft or area)."""
        other = np.where(self.kind == CONFLICT, self.f["b"], self.area)
        return finding_code(self.kind, self.f["a"], other)


def finding_code(kind: npt.NDArray[Any], x: npt.NDArray[Any], y: npt.NDArray[Any]) -> IntArray:
    return ((kind.astype(np.int64) << 60) | (x.astype(np.int64) << 30) | y.astype(np.int64)).astype(
        np.int64
    )


def _ranks(keys: Sequence[str]) -> IntArray:
    """Each key's place in the sorted keys."""
    rank = np.empty(len(keys), dtype=np.int64)
    rank[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return rank


def found_of(
    source: str,
    aircraft: Sequence[dict[str, Any]],
    areas: list[str],
    party_sets: list[list[str]],
    kind: IntArray,
    area: IntArray,
    f: Findings,
    fill: Callable[[Findings, IntArray], None] | None = None,
    lazy: int = 0,
) -> Found:
    """A pass's findings (see :class:`Found`); ``fill`` fills in the numbers of the first
    ``lazy`` findings when asked."""
    owned = [str(owner) for owner in column(aircraft, "owner")]
    owners = sorted(set(owned))
    index = {o: k for k, o in enumerate(owners)}
    in_clear = visibility.in_clear
    return Found(
        source=source,
        aircraft=aircraft,
        rank=_ranks([str(key) for key in column(aircraft, "key")]),
        shared=np.array([in_clear(d) for d in column(aircraft, "disclosure")], dtype=bool),
        owner=np.array([index[owner] for owner in owned], dtype=np.int64),
        owners=owners,
        areas=areas,
        party_sets=party_sets,
        kind=kind.astype(np.int64),
        area=area.astype(np.int64),
        f=f,
        fill=fill,
        filled=np.zeros(lazy, dtype=np.bool_) if fill is not None else None,
    )


class TrackAircraft(Sequence[dict[str, Any]]):
    """The fresh tracks as a pass's findings name them, each one's dict made when first
    asked: a pass over 5,000 aircraft names the few in its new findings, and making all
    5,000 dicts every round cost 5 µs a report. :func:`column` reads the columns a pass
    needs of every aircraft (``key``, ``owner``, ``disclosure``) without making them."""

    __slots__ = ("_made", "_rows", "keys")

    def __init__(self, rows: Sequence[Track], keys: Sequence[str]) -> None:
        self._rows = rows
        self.keys = keys
        self._made: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, k: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, k: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, k: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(k, slice):
            return [self[n] for n in range(*k.indices(len(self)))]
        n = k + len(self) if k < 0 else k
        made = self._made.get(n)
        if made is None:
            made = self._made[n] = _aircraft(self._rows[n], self.keys[n])
        return made

    def column(self, name: str) -> Sequence[Any]:
        """Every aircraft's ``key``, ``owner`` or ``disclosure``."""
        if name == "key":
            return self.keys
        return [getattr(row, name) for row in self._rows]


def column(aircraft: Sequence[dict[str, Any]], name: str) -> Sequence[Any]:
    """Every aircraft's value of ``name`` (of a :class:`TrackAircraft` without making its
    dicts)."""
    if isinstance(aircraft, TrackAircraft):
        return aircraft.column(name)
    return [one[name] for one in aircraft]


def _aircraft(row: Track, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "id": row.id,
        "owner": row.owner,
        "operator": row.operator,
        "party": row.party,
        "mission": row.mission,
        "disclosure": row.disclosure,
        "reported_at": format_instant(row.time),
        "state": [row.lat, row.lon, row.alt_ft, row.gs_kt, row.track_deg, row.vs_fpm],
    }


@dataclass(frozen=True, slots=True)
class _Motion:
    """Each aircraft's motion as columns: seconds since its report at ``now``, lat, lon, the
    east-west scale (cos lat), track (rad), ground speed (m/s), altitude (ft), vertical rate
    (ft/s)."""

    since: FloatArray
    lat: FloatArray
    lon: FloatArray
    scale: FloatArray
    track: FloatArray
    gs: FloatArray
    alt: FloatArray
    vs: FloatArray

    @classmethod
    def of(cls, tracks: TrackSet, now: datetime) -> _Motion:
        return cls(
            since=epoch_seconds(now) - tracks.time_s,
            lat=tracks.lat,
            lon=tracks.lon,
            scale=np.maximum(np.cos(np.radians(tracks.lat)), 1e-9),
            track=np.radians(tracks.track_deg),
            gs=tracks.gs_kt * KT,
            alt=tracks.alt_ft,
            vs=tracks.vs_fpm / 60.0,
        )

    def moved(self, k: IntArray, seconds: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Aircraft ``k``'s (lat, lon, alt_ft) ``seconds`` after now, extrapolated in a straight
        line as :meth:`accord.airspace.TrackSet.states_at` does (a conflict's closest approach
        and loss of separation, shown on the map)."""
        dt = self.since[k] + seconds
        gs, track = self.gs[k], self.track[k]
        lat = np.clip(self.lat[k] + np.degrees(gs * np.cos(track) * dt / EARTH_RADIUS_M), -90, 90)
        lon = self.lon[k] + np.degrees(gs * np.sin(track) * dt / (EARTH_RADIUS_M * self.scale[k]))
        lon = np.where(lon > 180.0, lon - 360.0, np.where(lon < -180.0, lon + 360.0, lon))
        return lat, lon, self.alt[k] + self.vs[k] * dt


def _conflict_findings(
    found: Conflicts, tracks: TrackSet, rank: IntArray, now: datetime
) -> tuple[Findings, Callable[[Findings, IntArray], None]]:
    """The detector's conflicts as findings (``p`` left to the caller): the two aircraft in
    the order of their keys, whether separation is lost and when; and what fills in the rest
    of the numbers as the alerts show them, for the findings a pass raises or keeps current
    (a pass finds a cluster's every pair again, and needs the places of few)."""
    i, j = found.i, found.j
    swap = rank[i] > rank[j]
    a, b = np.where(swap, j, i), np.where(swap, i, j)
    f = np.zeros(i.shape[0], dtype=FINDING)
    f["a"], f["b"], f["flag"] = a, b, found.lost
    now_us = micros(now)
    los_us = now_us + np.rint(found.tlos_s * 1e6).astype(np.int64)
    f["t_los"] = los_us // 1_000_000
    motion = _Motion.of(tracks, now)

    def fill(into: Findings, k: IntArray) -> None:
        ka, kb = a[k], b[k]
        at = np.maximum(found.tcpa_s[k], 0.0)
        a_lat, a_lon, a_alt = motion.moved(ka, at)
        b_lat, b_lon, b_alt = motion.moved(kb, at)
        into["tcpa"][k] = np.round(found.tcpa_s[k], 1)
        into["dcpa"][k] = np.round(found.dcpa_m[k] / NM, 2)
        into["vert"][k] = np.round(np.abs(a_alt - b_alt))
        into["x"][k] = np.round((np.round(a_lon, 6) + np.round(b_lon, 6)) / 2, 6)
        into["y"][k] = np.round((np.round(a_lat, 6) + np.round(b_lat, 6)) / 2, 6)
        los = np.maximum((los_us[k] - now_us) / 1e6, 0.0)
        a_lat, a_lon, _ = motion.moved(ka, los)
        b_lat, b_lon, _ = motion.moved(kb, los)
        into["xa"][k], into["ya"][k] = np.round(a_lon, 6), np.round(a_lat, 6)
        into["xb"][k], into["yb"][k] = np.round(b_lon, 6), np.round(b_lat, 6)

    return f, fill


def _pair_sets(
    first: IntArray, second: IntArray, names: Sequence[str]
) -> tuple[list[list[str]], IntArray]:
    """The parties concerned by each pair of owners (``first``'s, then ``second``'s, once
    each) as distinct lists, and each pair's index among them."""
    size = max(len(names), 1)
    uniq, inverse = np.unique(first * size + second, return_inverse=True)
    sets = [list(dict.fromkeys((names[u // size], names[u % size]))) for u in uniq.tolist()]
    return sets, inverse.astype(np.int64).reshape(-1)


def track_found(agreement: Agreement, rows: Sequence[Track], now: datetime) -> Found:
    """Every conflict and area finding among the fresh ``rows`` at ``now``."""
    keys = [key_of(r) for r in rows]
    aircraft = TrackAircraft(rows, keys)
    empty = np.zeros(0, dtype=np.int64)
    base = found_of("track", aircraft, [], [], empty, empty, np.zeros(0, dtype=FINDING))
    if not rows:
        return base
    tracks = TrackSet.from_reports(reports_of(rows, keys))
    detected = detect_conflicts(tracks.states_at(now), Separation.from_rules(agreement.airspace))
    conflicts, fill = _conflict_findings(detected, tracks, base.rank, now)
    party_sets, p = _pair_sets(base.owner[detected.i], base.owner[detected.j], base.owners)
    conflicts["p"] = p
    index = DesignatedAreaIndex(agreement)
    row_of = {key: k for k, key in enumerate(keys)}
    listed = list(track_area_findings(tracks, index, now, agreement.airspace.lookahead))
    calling = [
        (k, SQUAWK_PREFIX + str(r.squawk))
        for k, r in enumerate(rows)
        if r.squawk is not None and r.squawk in EMERGENCY_SQUAWKS
    ]
    areas = sorted({f.area_id for f in listed} | {code for _, code in calling})
    area_of = {a: k for k, a in enumerate(areas)}
    found_areas = np.zeros(len(listed), dtype=FINDING)
    kinds, where = [], []
    sets: dict[tuple[str, ...], int] = {}
    for k, f in enumerate(listed):
        kinds.append(AREA if f.verdict == "violation" else EXEMPT)
        where.append(area_of[f.area_id])
        concerned = tuple(sorted(agreement.party_ids | {owner_of(f.party, f.operator)}))
        found_areas[k] = (
            row_of[f.track_id], -1,
            sets.setdefault(concerned, len(party_sets) + len(sets)),
            f.inside, epoch_seconds(f.entry_at.replace(microsecond=0)), 0, 0,
            math.nan, math.nan, math.nan,
            round(f.entry_point[0], 6), round(f.entry_point[1], 6),
            math.nan, math.nan, math.nan, math.nan,
        )  # fmt: skip
    everyone = tuple(sorted(agreement.party_ids))
    found_codes = np.zeros(len(calling), dtype=FINDING)
    for n, (k, code) in enumerate(calling):
        row = rows[k]
        concerned = tuple(sorted(set(everyone) | {row.owner}))
        kinds.append(AREA)
        where.append(area_of[code])
        found_codes[n] = (
            k, -1, sets.setdefault(concerned, len(party_sets) + len(sets)),
            True, epoch_seconds(row.time.replace(microsecond=0)), 0, 0,
            math.nan, math.nan, math.nan, round(row.lon, 6), round(row.lat, 6),
            math.nan, math.nan, math.nan, math.nan,
        )  # fmt: skip
    found_areas = np.concatenate([found_areas, found_codes])
    return found_of(
        "track",
        aircraft,
        areas,
        party_sets + [list(s) for s in sets],
        np.concatenate([np.full(len(conflicts), CONFLICT), np.array(kinds, dtype=np.int64)]),
        np.concatenate([np.full(len(conflicts), -1), np.array(where, dtype=np.int64)]),
        np.concatenate([conflicts, found_areas]),
        fill,
        len(conflicts),
    )
