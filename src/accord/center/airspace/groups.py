"""Groups: the new findings of a pass raised as few record entries as the aircraft allow —
entries grow with the aircraft, not with the pairs.

The new alerts of one pass are raised in groups — the conflicts by connected component of
the conflict graph (a cluster of aircraft in conflict), the area findings by kind and area —
and each group is ONE record entry signed by the **center** (no party acted: the center's
key, as for direct-line escalation steps): its aircraft once each, one row per finding (alert
``<group>.<n>`` is row ``n``), at most :data:`ENTRY_BUDGET` bytes (DECISIONS 12: a larger
group is split into several entries, each a group). So a batch of N aircraft in one spot —
about N²/2 conflicts, one component — adds about one entry per 1,600 pairs (a row is about
30 bytes; the pairs are ordered by tiles of :data:`TILE` aircraft so that each entry lists
few aircraft: 500 aircraft, 79 entries; see ``python -m bench --only alerts``).

The record, which every party reads, carries only the fields DECISIONS 1 allows for a pair
with a ``center`` aircraft, plus per owner a salted commitment
(:mod:`accord.record.commitments`) to its hidden aircraft in the group (ids, missions,
reported states), whose opening is served to its owner alone (``opening`` in the owner's
view of the alert): the owner can prove later what the center knew and when.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import numpy as np

from accord.center import visibility
from accord.center.airspace.entries import ENTRIES, raise_event
from accord.center.airspace.findings import (
    CONFLICT,
    KINDS,
    FloatArray,
    Found,
    IntArray,
    squawk_of,
)
from accord.center.airspace.store import NO_ENTRY, OPEN, STATE, Group, micros
from accord.chrono import format_instant
from accord.record.canonical import canonical_join, canonical_json, canonical_rows, encode_base64
from accord.record.commitments import SALT_BYTES, commitment

__all__ = [
    "ENTRY_BUDGET",
    "TILE",
    "entry_chunks",
    "group_event",
    "group_findings",
    "public_aircraft",
]


def _components(n: int, u: IntArray, v: IntArray) -> IntArray:
    """The connected components of the graph on ``0 … n-1`` with edges ``(u[k], v[k])``:
    each node's component as its smallest node (hooking each root under its smallest
    neighbouring root, then compressing, until no edge joins two roots; a few rounds).

    >>> _components(5, np.array([0, 3]), np.array([2, 4])).tolist()
    [0, 1, 0, 3, 3]
    """
    parent = np.arange(n, dtype=np.int64)
    while u.size:
        pu, pv = parent[u], parent[v]
        low, high = np.minimum(pu, pv), np.maximum(pu, pv)
        apart = low != high
        if not apart.any():
            break
        np.minimum.at(parent, high[apart], low[apart])
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
        u, v = u[apart], v[apart]
    return parent


def group_findings(found: Found, new: IntArray) -> list[IntArray]:
    """The new findings ``new`` (indices into the pass) in groups, each in its entry's order:
    conflicts by connected component of the conflict graph, area findings by kind and area.
    The groups partition ``new``.

    Why components: a cluster of N aircraft in one spot has about N²/2 conflicts and one
    component; two distant clusters are two components, each alerted to its own parties.
    Only ``shared`` aircraft join components: a pair with a hidden aircraft joins the
    component of its other aircraft, and pairs of two hidden aircraft one group per pair of
    owners — else two of a party's aircraft put in one group would tell it that one hidden
    aircraft (or a chain of them) conflicts with both, a second measurement of it. (So the
    groups are at most the shared components plus the pairs of owners: O(N).)"""
    if not new.size:
        return []
    kind, f = found.kind[new], found.f[new]
    a, b = f["a"].astype(np.int64), f["b"].astype(np.int64)
    second = np.where(kind == CONFLICT, found.rank[np.maximum(b, 0)], found.area[new])
    order = np.lexsort((second, found.rank[a], kind))
    new, kind, a, b = new[order], kind[order], a[order], b[order]
    conflict = kind == CONFLICT
    unit = found.area[new].copy()
    if conflict.any():
        ca, cb = a[conflict], b[conflict]
        sa, sb = found.shared[ca], found.shared[cb]
        both = sa & sb
        root = _components(len(found.aircraft), ca[both], cb[both])
        oa, ob = found.owner[ca], found.owner[cb]
        owners = np.minimum(oa, ob) * len(found.owners) + np.maximum(oa, ob)
        unit[conflict] = np.where(
            sa, root[ca], np.where(sb, root[cb], len(found.aircraft) + owners)
        )
    key = (kind << 50) | unit
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    members = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse))
    out = []
    for g in np.argsort(first).tolist():
        group = new[members[(bounds[g - 1] if g else 0) : bounds[g]]]
        out.append(_tiled(found, group) if found.kind[group[0]] == CONFLICT else group)
    return out


TILE = 32
"""A dense cluster's conflicts are ordered by tiles of this many aircraft by this many, so
that each entry of a split cluster lists few aircraft for many pairs (about 2 × 32 aircraft
for 1,000 pairs, where pair order would list every aircraft of the cluster in each)."""


def _tiled(found: Found, group: IntArray) -> IntArray:
    """``group``'s conflicts ordered by the tile of their two shared aircraft (their ranks
    among the group's shared aircraft in key order; a hidden aircraft, listed once per
    pair, counts as tile -1)."""
    f = found.f[group]
    a, b = f["a"].astype(np.int64), f["b"].astype(np.int64)
    sa, sb = found.shared[a], found.shared[b]
    ranks = np.unique(found.rank[np.concatenate([a[sa], b[sb]])])
    ta = np.where(sa, np.searchsorted(ranks, found.rank[a]) // TILE, -1)
    tb = np.where(sb, np.searchsorted(ranks, found.rank[b]) // TILE, -1)
    order = np.lexsort((np.arange(group.size), np.maximum(ta, tb), np.minimum(ta, tb)))
    return group[order]


ENTRY_BUDGET = 60_000
"""The most bytes of canonical JSON the event of one alert group's record entry takes
(DECISIONS 12: an entry, envelope and signature included, is at most 64 KiB). A larger
group is split into several entries, each a group of its own."""

_SKELETON = 1_000  # the event's fixed part: kind, group, parties, times, fields
_PER_OWNER = 80  # one commitment in ``commitments``

_CONFLICT_FIELDS = ["a", "b", "los_s", "lost", "tcpa_s", "dcpa_nm", "vertical_ft"]
_PLAN_FIELDS = [*_CONFLICT_FIELDS, "los_until_s", "cpa_s"]
_AREA_FIELDS = ["aircraft", "inside", "entry_s", "entry_point"]
_STORED = ("key", "id", "owner", "operator", "party", "mission", "disclosure")


def public_aircraft(one: Mapping[str, Any]) -> dict[str, Any]:
    """What the record says of an aircraft: all of a shared one but its place; of a
    ``center`` one its owner and operator only."""
    out = {"party": one["party"], "operator": one["operator"], "disclosure": one["disclosure"]}
    if visibility.in_clear(one["disclosure"]):
        out |= {"id": one["id"], "mission": one["mission"]}
    return out


def _seconds(at_s: IntArray, now_us: int) -> FloatArray:
    """Whole-second instants ``at_s`` as seconds from ``now`` (µs), to 0.1 s."""
    return cast(FloatArray, np.round((at_s * 1_000_000 - now_us) / 1e6, 1))


def _digits(values: IntArray) -> IntArray:
    """The decimal digits of each non-negative integer."""
    out = np.ones(values.shape, dtype=np.int64)
    for power in range(1, 19):
        out += values >= 10**power
    return out


def _text_len(values: FloatArray, decimals: int) -> IntArray:
    """The length of each value's JSON text, rounded to ``decimals`` (0: an integer):
    Python's shortest form of such a number is its sign, integer digits and, for a float, a
    point and its decimals without trailing zeros (at least one). Exact from 1e-4 to 1e15,
    more below (an exponent), which is all a finding holds; :func:`raise_group` checks the
    entry's size anyway."""
    scaled = np.rint(np.abs(values) * 10**decimals).astype(np.int64)
    sign = np.signbit(values) & ((scaled > 0) if decimals == 0 else True)
    size = sign.astype(np.int64) + _digits(scaled // 10**decimals)
    if decimals == 0:
        return size
    rest = scaled % 10**decimals
    places = np.full(values.shape, decimals, dtype=np.int64)
    for _ in range(decimals - 1):
        zero = (rest % 10 == 0) & (places > 1)
        places -= zero
        rest = np.where(zero, rest // 10, rest)
    return size + 1 + places


def _row_costs(found: Found, group: IntArray, now_us: int) -> IntArray:
    """The bytes each finding of ``group`` adds to its entry's ``findings`` (its row and a
    comma) but for the indices of the aircraft it lists (counted by :func:`entry_chunks`)."""
    f = found.f[group]
    los = _text_len(_seconds(f["t_los"], now_us), 1)
    flag = np.where(f["flag"] != 0, 4, 5)
    if found.kind[group[0]] != CONFLICT:
        point = 3 + _text_len(f["x"], 6) + _text_len(f["y"], 6)
        point = np.where(found.shared[f["a"]], point, 4)
        return cast(IntArray, 6 + flag + los + point)
    numbers = _text_len(f["tcpa"], 1) + _text_len(f["dcpa"], 2)
    numbers += np.where(np.isnan(f["vert"]), 4, _text_len(np.nan_to_num(f["vert"]), 0))
    fields = 7
    if found.source == "plan":
        numbers += _text_len(_seconds(f["t_until"], now_us), 1)
        numbers += _text_len(_seconds(f["t_cpa"], now_us), 1)
        fields = 9
    numbers = np.where(found.shared[f["a"]] & found.shared[f["b"]], numbers, 4 * (fields - 4))
    return cast(IntArray, fields + 2 + los + flag + numbers)


def _slots(found: Found, group: IntArray) -> tuple[IntArray, IntArray]:
    """The aircraft each finding of ``group`` lists in its entry, in order (a conflict's two
    after each other), and each one's slot: a shared aircraft's slot is the aircraft, a
    hidden one's is its own (listed once per finding: see :func:`group_event`)."""
    f = found.f[group]
    if found.kind[group[0]] == CONFLICT:
        listed = np.stack([f["a"], f["b"]], axis=1).reshape(-1).astype(np.int64)
    else:
        listed = f["a"].astype(np.int64)
    slot = np.where(found.shared[listed], listed, -1 - np.arange(listed.size))
    return listed, slot


def entry_chunks(found: Found, group: IntArray, now: datetime, costs: IntArray) -> list[IntArray]:
    """``group`` cut greedily into runs whose entry stays within :data:`ENTRY_BUDGET` (each
    row counted as its JSON, each aircraft as its public JSON the first time a run lists it,
    each owner's commitment once per group; :func:`raise_group` checks the exact size and
    halves a run that is still too large). ``costs``: each aircraft's bytes in an entry's
    ``aircraft``."""
    rows = _row_costs(found, group, micros(now))
    listed, slot = _slots(found, group)
    per = listed.size // group.size
    hidden_owners = np.unique(found.owner[listed[~found.shared[listed]]]).size
    budget = ENTRY_BUDGET - _SKELETON - _PER_OWNER * hidden_owners
    window = max(1, budget // int(rows.min()) + 1)
    out = []
    start = 0
    while start < group.size:
        end = min(group.size, start + window)
        seg = slot[start * per : end * per]
        _, first, inverse = np.unique(seg, return_index=True, return_inverse=True)
        order = np.argsort(first)
        local = np.empty(order.size, dtype=np.int64)
        local[order] = np.arange(order.size)
        index = _digits(local[inverse.reshape(-1)]).reshape(-1, per).sum(axis=1)
        new = np.zeros(seg.size, dtype=np.int64)
        new[first] = costs[listed[start * per : end * per][first]]
        total = np.cumsum(rows[start:end] + index + new.reshape(-1, per).sum(axis=1))
        take = max(1, int(np.searchsorted(total, budget, side="right")))
        out.append(group[start : start + take])
        start += take
    return out


def group_event(
    found: Found, group: IntArray, group_id: str, now: datetime, *, part: int, parts: int
) -> tuple[bytes, dict[str, dict[str, str]], Group]:
    """The record event of a new group (its canonical JSON, the ``findings`` encoded as a
    table: :func:`~accord.record.canonical.canonical_rows`), the openings of its commitments
    (by owner), and the group as stored (its entry and hash still to fill).

    The event lists the group's shared aircraft once each and a hidden one once per finding
    (as :func:`public_aircraft`), then one row per finding (columns: ``fields``;
    ``a``/``b``/``aircraft`` index ``aircraft``); the finding in row ``n`` is alert
    ``<group>.<n>``. A conflict with an aircraft hidden from some reader says only which
    aircraft, when separation is lost, and whether it is lost now (DECISIONS 1): no
    distance, no vertical separation, and no time of closest approach either — its gap to
    the loss of separation, times the closing speed, measures the miss distance. Each owner
    of a ``center`` aircraft gets a salted commitment to its hidden aircraft in the group
    (ids, missions, reported states), whose opening the center keeps for it."""
    kind = KINDS[int(found.kind[group[0]])]
    where = None if kind == "conflict" else found.areas[int(found.area[group[0]])]
    f = found.f[group].copy()
    now_us = micros(now)
    listed, slot = _slots(found, group)
    _, first, inverse = np.unique(slot, return_index=True, return_inverse=True)
    order = np.argsort(first)
    local = np.empty(order.size, dtype=np.int64)
    local[order] = np.arange(order.size)
    at = local[inverse.reshape(-1)]
    slotted = listed[first[order]].tolist()
    aircraft = [found.aircraft[k] for k in slotted]
    used = np.unique(f["p"])
    parties = sorted({p for k in used.tolist() for p in found.party_sets[k]})
    event: dict[str, Any] = {
        "kind": raise_event(kind, where),
        "group": group_id,
        "part": part,
        "parts": parts,
        "source": found.source,
        "parties": parties,
        "raised_at": format_instant(now),
        "aircraft": [public_aircraft(one) for one in aircraft],
    }
    los = _seconds(f["t_los"], now_us).tolist()
    if kind == "conflict":
        event["fields"] = _PLAN_FIELDS if found.source == "plan" else _CONFLICT_FIELDS
        vert: list[Any] = np.nan_to_num(f["vert"]).astype(np.int64).tolist()
        for k in np.flatnonzero(np.isnan(f["vert"])).tolist():
            vert[k] = None
        columns = [at[0::2].tolist(), at[1::2].tolist(), los, f["flag"].astype(np.bool_).tolist(),
                   f["tcpa"].tolist(), f["dcpa"].tolist(), vert]  # fmt: skip
        if found.source == "plan":
            columns += [
                _seconds(f["t_until"], now_us).tolist(),
                _seconds(f["t_cpa"], now_us).tolist(),
            ]
        hidden = np.flatnonzero(~(found.shared[f["a"]] & found.shared[f["b"]])).tolist()
        for column in columns[4:]:
            for k in hidden:
                column[k] = None
        findings = canonical_rows(columns)
    else:
        code = squawk_of(where)
        if code is not None:
            event["squawk"] = code
        else:
            event["area"] = where
        event["fields"] = _AREA_FIELDS
        points = np.stack([f["x"], f["y"]], axis=1).tolist()
        hidden = ~found.shared[f["a"]]
        inside = f["flag"].astype(np.bool_).tolist()
        findings = canonical_json(
            [
                [k, inside[n], los[n], None if hidden[n] else points[n]]
                for n, k in enumerate(at.tolist())
            ]
        )
    secret: dict[str, dict[str, dict[str, Any]]] = {}
    for one in aircraft:
        if not visibility.in_clear(one["disclosure"]):
            secret.setdefault(one["owner"], {}).setdefault(one["key"], one)
    sealed: dict[str, dict[str, str]] = {}
    commitments: dict[str, str] = {}
    for owner in sorted(secret):
        content = {"group": group_id, "aircraft": list(secret[owner].values())}
        salt = secrets.token_bytes(SALT_BYTES)
        committed = encode_base64(commitment(content, salt=salt))
        commitments[owner] = committed
        sealed[owner] = {
            "commitment": committed,
            "salt": encode_base64(salt),
            "content": canonical_json(content).decode("utf-8"),
        }
    if commitments:
        event["commitments"] = commitments
    ENTRIES[str(event["kind"])].check(event | {"findings": None})
    members = {name: canonical_json(value) for name, value in event.items()}
    body = canonical_join(members | {"findings": findings})
    # the group as stored: its distinct aircraft, its parties' lists, its findings' numbers
    distinct, first_seen, which = np.unique(listed, return_index=True, return_inverse=True)
    keep = np.argsort(first_seen)
    position = np.empty(keep.size, dtype=np.int64)
    position[keep] = np.arange(keep.size)
    stored = position[which.reshape(-1)]
    if kind == "conflict":
        f["a"], f["b"] = stored[0::2], stored[1::2]
    else:
        f["a"] = stored
    sets, f["p"] = np.unique(f["p"], return_inverse=True)
    state = np.zeros(group.size, dtype=STATE)
    state["seen"], state["cleared"], state["cleared_entry"] = now_us, OPEN, NO_ENTRY
    stored_group = Group(
        id=group_id,
        kind=kind,
        source=found.source,
        grouped=True,
        area=where,
        parties=parties,
        party_sets=[found.party_sets[k] for k in sets.tolist()],
        aircraft=[{k: found.aircraft[a][k] for k in _STORED} for a in distinct[keep].tolist()],
        count=int(group.size),
        open=int(group.size),
        raised_at=now,
        content_hash="",
        entry=-1,
        sealed=json.dumps(sealed),
        findings=f,
        state=state,
    )
    return body, sealed, stored_group
