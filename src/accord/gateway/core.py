"""What the gateway does with a device's event: its party's signed requests to the center.

* a friendly ground report (``a-f-*``, not air) → that device's **position**: declared on
  first sight with the gateway's disclosure (``center`` unless ``--disclosure`` says
  otherwise: the agreement names no default, and a party that distrusts the other would
  hide its forces first), amended in place as the dead band (:mod:`accord.cot.deadband`)
  decides. A hidden position is declared and amended through ``POST
  /v1/declarations/hidden`` (one request line for every change, so that the signed act every
  party reads in the record names no position: how many positions move, and how often
  each, stays the party's); a shared one through ``POST /v1/declarations`` and ``PUT`` with
  ``If-Match``;
* a friendly air report (``a-f-A-*``) → a live **track**, batched once a second
  (``POST /v1/tracks``);
* a drawn shape (``u-d-f``, ``u-d-r``, ``u-d-c-c``) → the member's **draft** of that uid
  (``PUT /v1/drafts/{uid}``), its ``t-x-d-d`` → ``DELETE``.

**Spoofing.** CoT carries no signature; the connection's identity decides. Within the
gateway a uid first seen from user U is never moved by user V (refused, logged, counted);
the center keeps uids unique across members (a 409 naming ``device.uid``: logged, counted,
never retried).

**Posting.** At most ``in_flight`` requests at once; the work waiting is one slot per
device position, per draft and one for the tracks batch, the latest replacing what waits
(so a slow center never grows memory beyond one slot per key, and at most ``max_waiting``
keys); 429 and 503 are retried after ``Retry-After`` (or a growing pause) with the latest
work of that key; any other 4xx is logged with the problem's detail, counted and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from accord.chrono import format_instant
from accord.cot import Event, is_air, is_friendly, position_declaration
from accord.cot.deadband import Band, Decision, DeviceState, Report, flush, offer, uncertainty_m
from accord.cot.drafts import deleted_key, draft_body, draft_key
from accord.errors import CotError
from accord.gateway.center import Answer, CenterApi
from accord.gateway.state import Declared, State

__all__ = ["DEVICE_PROPERTIES", "Counts", "Gateway", "position_feature", "track_report"]

_log = logging.getLogger("accord.gateway")

DEVICE_PROPERTIES = True
"""Whether a position carries ``device``, ``course_deg``, ``speed_mps`` and ``reported_at``
(issue 21's contract, item 1): the center keeps a device's uid with the first party that
declares it, and the gateway's ``device-reports`` key may sign positions carrying one only.
(False declares plain positions, for a center that takes no device.)"""

UID_ELSEWHERE = "device.uid"
MAX_UIDS_PER_USER = 64
"""Position uids one user's devices may bring (each device's own, and the friendly markers
its user drops): every new uid is a new position of the party, so a broken or captured
device cannot fill the party's picture and record with thousands."""
SAVE_EVERY_S = 1.0
"""How often the devices' state is written when a write changed it."""
_FT_PER_M = 3.280839895
_KT_PER_MPS = 1.943844492
_MAX_TRACK_ID = 64


def report_of(event: Event) -> Report:
    """A report as the dead band reads it."""
    track = event.detail.track
    return Report(
        lat=event.point.lat,
        lon=event.point.lon,
        stale=event.stale,
        ce=event.point.ce,
        course=None if track is None else track.course % 360.0,
        speed=None if track is None else track.speed,
    )


def position_feature(
    event: Event,
    *,
    party: str,
    disclosure: str,
    band: Band,
    device_uid: str,
    callsign: str | None,
) -> dict[str, Any]:
    """The GeoJSON feature a friendly report declares: the point, ``uncertainty_m`` = ``ce``
    plus the dead band (what the record says stays true between writes), held from the
    report's start to its stale, named after the callsign; with :data:`DEVICE_PROPERTIES`,
    the device and its motion too. Raises :class:`~accord.errors.CotError`."""
    feature: dict[str, Any] = position_declaration(event, party=party, disclosure=disclosure)[
        "feature"
    ]
    properties = feature["properties"]
    properties["uncertainty_m"] = uncertainty_m(report_of(event), band)
    if DEVICE_PROPERTIES:
        draft_key(device_uid, field="event@uid")  # the same alphabet as a device uid
        properties["device"] = {"uid": device_uid, "callsign": callsign}
        properties["reported_at"] = format_instant(event.time)
        track = event.detail.track
        if track is not None:
            properties["course_deg"] = track.course % 360.0
            properties["speed_mps"] = min(track.speed, 1000.0)
    return feature


def track_report(event: Event, *, member: str) -> dict[str, Any]:
    """A friendly air report as one report of ``POST /v1/tracks``: the member's own
    aircraft (id: the uid, cut to 64), altitude in feet (unknown: 0), ground speed in knots,
    true track; no vertical rate in CoT (0)."""
    track = event.detail.track
    return {
        "id": event.uid[:_MAX_TRACK_ID],
        "operator": member,
        "party": member,
        "mission": "cot",
        "time": format_instant(event.time),
        "lat": event.point.lat,
        "lon": event.point.lon,
        "alt_ft": round((event.point.hae or 0.0) * _FT_PER_M),
        "gs_kt": 0.0 if track is None else round(track.speed * _KT_PER_MPS, 1),
        "track_deg": 0.0 if track is None else track.course % 360.0,
        "vs_fpm": 0,
    }


@dataclass
class Counts:
    """What the status line says."""

    reports: int = 0
    writes: int = 0
    held: int = 0
    skipped: int = 0
    refused: int = 0
    spoofs: int = 0
    elsewhere: int = 0
    too_many: int = 0
    bad: int = 0
    last_error: str = ""


@dataclass
class _Job:
    """The latest work of one key: a coroutine factory (called when it runs)."""

    run: Callable[[], Awaitable[Answer | None]]
    what: str


@dataclass
class _Device:
    user: str
    state: DeviceState = field(default_factory=DeviceState)
    pending: Event | None = None  # the report that WRITE/flush chose, for the poster
    timer: asyncio.TimerHandle | None = None
    callsign: str | None = None
    device_uid: str = ""


class Gateway:
    """One gateway: the member it acts for, its center, its state, its dead band."""

    def __init__(
        self,
        api: CenterApi,
        state: State,
        *,
        member: str,
        band: Band,
        disclosure: str = "center",
        clock: Callable[[], datetime],
        in_flight: int = 16,
        max_waiting: int = 10_000,
        max_uids_per_user: int = MAX_UIDS_PER_USER,
        tracks_every_s: float = 1.0,
        shift: timedelta = timedelta(0),
    ) -> None:
        self.api = api
        self.state = state
        self.member = member
        self.band = band
        self.disclosure = disclosure
        self.clock = clock
        self.in_flight = in_flight
        self.max_waiting = max_waiting
        self.max_uids_per_user = max_uids_per_user
        self._uids_of: dict[str, set[str]] = {}
        self.tracks_every_s = tracks_every_s
        self.shift = shift
        """What the device's times are moved by (the center's exercise clock; else 0)."""
        self.counts = Counts()
        self.known: dict[str, Declared] = state.load()
        self.devices: dict[str, _Device] = {}
        self._waiting: dict[str, _Job] = {}
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._running: set[str] = set()
        self._queued: set[str] = set()
        self._tracks: dict[str, dict[str, Any]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._unsaved = False
        self._saving = asyncio.Lock()

    # --- life --------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover the uids the state lost from the center, then start the posters."""
        await self.recover()
        loop = asyncio.get_running_loop()
        self._workers = [loop.create_task(self._worker()) for _ in range(self.in_flight)]
        self._workers.append(loop.create_task(self._tracks_loop()))
        self._workers.append(loop.create_task(self._save_loop()))

    async def close(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(BaseException):
                await task
        for device in self.devices.values():
            if device.timer is not None:
                device.timer.cancel()
        await self.save()

    async def recover(self) -> None:
        """The member's own positions carrying a device uid the state does not know."""
        for item in await self.api.own_positions(self.member):
            if item.get("status") != "active":
                continue
            props = (item.get("feature") or {}).get("properties") or {}
            device = props.get("device")
            uid = device.get("uid") if isinstance(device, dict) else None
            if isinstance(uid, str) and uid not in self.known:
                # the user is not on the record: the first user to report it here takes it
                self.known[uid] = Declared("", str(item["id"]), int(item["version"]))
        self.state.save(self.known)

    async def idle(self) -> None:
        """Wait until nothing waits or runs, and the state is saved (tests; a clean stop)."""
        await self._idle.wait()
        await self.save()

    async def save(self) -> None:
        """Write the devices' state if a write changed it, off the event loop (a synced
        file write takes milliseconds: done once per write, 500 devices' first reports
        would hold every connection's reading for seconds)."""
        async with self._saving:
            if not self._unsaved:
                return
            self._unsaved = False
            try:
                await asyncio.to_thread(self.state.save, dict(self.known))
            except Exception:
                self._unsaved = True
                raise

    async def _save_loop(self) -> None:
        """The state saved at most once per ``SAVE_EVERY_S``: a crash loses at most that
        much of it, and :meth:`recover` finds what it lost on the center."""
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            try:
                await self.save()
            except Exception as error:  # a full disk never stops the gateway
                self.counts.last_error = f"state: {error}"[:300]
                _log.error("gateway: the state was not saved: %s", error)

    # --- in ----------------------------------------------------------------------------

    async def event(
        self, event: Event, *, user: str, device_uid: str, callsign: str | None
    ) -> None:
        """One event from a device of ``user`` (the connection's identity)."""
        if self.shift:
            event = replace(
                event,
                time=event.time + self.shift,
                start=event.start + self.shift,
                stale=event.stale + self.shift,
            )
        if is_air(event.type):
            if is_friendly(event.type):
                self.counts.reports += 1
                self._tracks[event.uid[:_MAX_TRACK_ID]] = track_report(event, member=self.member)
            else:
                _log.info("gateway: %s: %s %s: a party reports its own aircraft only",
                          user, event.type, event.uid[:64])  # fmt: skip
            return
        if is_friendly(event.type):
            self.counts.reports += 1
            self._position(event, user=user, device_uid=device_uid, callsign=callsign)
            return
        if event.type in ("u-d-f", "u-d-r", "u-d-c-c"):
            self._draft(event, user=user, device_uid=device_uid, callsign=callsign)
            return
        key = deleted_key(event)
        if key is not None:
            self._submit(f"draft:{key}", _Job(lambda: self._delete_draft(key), f"delete {key}"))

    def _owner_ok(self, uid: str, user: str) -> bool:
        """Whether ``user`` may move ``uid``: the first user seen with it owns it."""
        known = self.known.get(uid)
        owner = known.user if known is not None else None
        device = self.devices.get(uid)
        if device is not None:
            owner = device.user
        if owner and owner != user:
            self.counts.spoofs += 1
            _log.warning("gateway: %s sent uid %r, which %s owns: refused", user, uid[:64], owner)
            return False
        return True

    def _position(self, event: Event, *, user: str, device_uid: str, callsign: str | None) -> None:
        uid = event.uid
        if not self._owner_ok(uid, user):
            return
        device = self.devices.get(uid)
        if device is None:
            mine = self._uids_of.setdefault(user, set())
            if len(mine) >= self.max_uids_per_user:
                self.counts.refused += 1
                self.counts.too_many += 1
                _log.warning("gateway: %s sent a %dth uid %r: refused (at most %d a user)",
                             user, len(mine) + 1, uid[:64], self.max_uids_per_user)  # fmt: skip
                return
            mine.add(uid)
            device = self.devices[uid] = _Device(user=user)
            known = self.known.get(uid)
            if known is not None and not known.user:
                self.known[uid] = Declared(user, known.declaration, known.version)
        device.callsign = (event.detail.callsign or callsign or "").strip()[:200] or None
        device.device_uid = uid
        now = self.clock()
        try:
            position_declaration(event, party=self.member, disclosure=self.disclosure)
        except CotError as error:
            self.counts.bad += 1
            _log.warning("gateway: %s: report not taken: %s", user, error)
            return
        device.state, decision = offer(device.state, report_of(event), now=now, band=self.band)
        if decision is Decision.SKIP:
            self.counts.skipped += 1
            return
        device.pending = event
        if decision is Decision.HOLD:
            self.counts.held += 1
            self._arm(uid, device)
            return
        self._submit(f"position:{uid}", _Job(lambda: self._write_position(uid), f"position {uid}"))

    def _arm(self, uid: str, device: _Device) -> None:
        """A timer to write the held report when the interval ends."""
        due = device.state.due(self.band)
        if due is None or device.timer is not None:
            return
        delay = max(0.0, (due - self.clock()).total_seconds())
        device.timer = asyncio.get_running_loop().call_later(delay, self._flush, uid)

    def _flush(self, uid: str) -> None:
        device = self.devices.get(uid)
        if device is None:
            return
        device.timer = None
        device.state, report = flush(device.state, now=self.clock(), band=self.band)
        if report is None:
            self._arm(uid, device)
            return
        self._submit(f"position:{uid}", _Job(lambda: self._write_position(uid), f"position {uid}"))

    def _draft(self, event: Event, *, user: str, device_uid: str, callsign: str | None) -> None:
        try:
            body = draft_body(event, device_uid=device_uid, callsign=callsign)
        except CotError as error:
            self.counts.bad += 1
            _log.warning("gateway: %s: drawing not taken: %s", user, error)
            return
        key = event.uid
        self._submit(f"draft:{key}", _Job(lambda: self._put_draft(key, body), f"draft {key}"))

    # --- posting -----------------------------------------------------------------------

    def _submit(self, key: str, job: _Job) -> None:
        new = key not in self._waiting and key not in self._running
        if new and len(self._waiting) + len(self._running) >= self.max_waiting:
            self.counts.refused += 1
            self.counts.last_error = "too much waiting: work dropped"
            return
        self._waiting[key] = job  # the latest wins
        self._idle.clear()
        self._schedule(key)

    def _schedule(self, key: str) -> None:
        """Queue ``key`` if work of it waits and it is neither queued nor running: one
        request per key at a time, in order (a device's writes never race each other), and
        work that came while its key ran is queued when that run ends."""
        if key in self._waiting and key not in self._running and key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            job = self._waiting.pop(key, None)
            if job is None:
                continue
            self._running.add(key)
            try:
                answer = await job.run()
                if answer is not None and answer.status in (429, 503):
                    pause = answer.retry_after if answer.retry_after is not None else 1.0
                    self.counts.last_error = f"{job.what}: {answer.status}, again in {pause:g} s"
                    await asyncio.sleep(min(max(pause, 0.1), 60.0))
                    self._waiting.setdefault(key, job)  # retry, unless newer work came
                elif answer is not None and answer.status == 0:
                    self.counts.last_error = f"{job.what}: {answer.detail}"
                    await asyncio.sleep(1.0)
                    self._waiting.setdefault(key, job)
            except Exception as error:  # one job's bug never stops the poster
                self.counts.last_error = f"{job.what}: {error!r}"[:300]
                _log.error("gateway: %s failed: %r", job.what, error)
            finally:
                self._running.discard(key)
                self._schedule(key)
                if not self._waiting and not self._running:
                    self._idle.set()

    def _refused(self, what: str, answer: Answer) -> None:
        self.counts.refused += 1
        self.counts.last_error = f"{what}: {answer.status} {answer.detail}"
        _log.warning("gateway: %s refused: %s %s", what, answer.status, answer.detail)

    async def _write_position(self, uid: str) -> Answer | None:
        device = self.devices[uid]
        event = device.pending
        if event is None:
            return None
        try:
            feature = position_feature(
                event,
                party=self.member,
                disclosure=self.disclosure,
                band=self.band,
                device_uid=uid,
                callsign=device.callsign,
            )
        except CotError as error:
            self.counts.bad += 1
            _log.warning("gateway: position %s not written: %s", uid, error)
            return None
        known = self.known.get(uid)
        if known is not None and known.declaration is not None:
            answer = await self._amend(known.declaration, known.version, feature)
            if answer.status == 404 or (
                answer.status == 409 and isinstance(answer.body, dict) and _withdrawn(answer)
            ):
                known = None  # withdrawn or gone: declared anew
            else:
                return self._done(uid, device, answer, "amend")
        if self.disclosure == "center":
            answer = await self._hidden({"change": "declare", "feature": feature})
        else:
            answer = await self.api.request("POST", "/v1/declarations", json_body=feature)
        return self._done(uid, device, answer, "declare")

    async def _amend(
        self, declaration: str, version: int | None, feature: dict[str, Any]
    ) -> Answer:
        path = f"/v1/declarations/{declaration}"
        answer = await self._put(declaration, version, feature)
        if answer.status == 409 and not answer.names(UID_ELSEWHERE) and not _withdrawn(answer):
            current = await self.api.request("GET", path)  # another write moved it: once more
            if current.status == 200 and isinstance(current.body, dict):
                answer = await self._put(declaration, int(current.body["version"]), feature)
        return answer

    async def _put(self, declaration: str, version: int | None, feature: dict[str, Any]) -> Answer:
        """Amend: a hidden position through ``POST /v1/declarations/hidden`` (its signed
        request line, which every party reads in the record, names no declaration); a
        shared one with ``PUT`` and ``If-Match``."""
        if self.disclosure == "center":
            change: dict[str, Any] = {"change": "amend", "id": declaration, "feature": feature}
            if version is not None:
                change["version"] = version
            return await self._hidden(change)
        headers = {} if version is None else {"If-Match": f'"{version}"'}
        path = f"/v1/declarations/{declaration}"
        return await self.api.request("PUT", path, json_body=feature, headers=headers)

    async def _hidden(self, change: dict[str, Any]) -> Answer:
        """One change through ``POST /v1/declarations/hidden``, answered as the request of
        its own would be: the declaration for a 200, a 404 for an id the center no longer
        knows (``changes[0].id``)."""
        answer = await self.api.request(
            "POST", "/v1/declarations/hidden", json_body={"changes": [change]}
        )
        if answer.status == 200 and isinstance(answer.body, dict):
            items = answer.body.get("items")
            if isinstance(items, list) and len(items) == 1:
                return replace(answer, body=items[0])
        if answer.status == 422 and answer.names("changes[0].id"):
            return replace(answer, status=404)
        return answer

    def _done(self, uid: str, device: _Device, answer: Answer, what: str) -> Answer:
        if answer.status in (200, 201) and isinstance(answer.body, dict):
            self.counts.writes += 1
            self.known[uid] = Declared(
                device.user, str(answer.body["id"]), int(answer.body["version"])
            )
            self._unsaved = True
        elif answer.status == 409 and answer.names(UID_ELSEWHERE):
            self.counts.elsewhere += 1
            self._refused(f"{what} {uid}: a uid of another party", answer)
        elif answer.status not in (0, 429, 503):
            self._refused(f"{what} {uid}", answer)
        return answer

    async def _put_draft(self, key: str, body: dict[str, Any]) -> Answer:
        answer = await self.api.request("PUT", f"/v1/drafts/{key}", json_body=body)
        if answer.status in (200, 201):
            self.counts.writes += 1
        elif answer.status not in (0, 429, 503):
            self._refused(f"draft {key}", answer)
        return answer

    async def _delete_draft(self, key: str) -> Answer:
        answer = await self.api.request("DELETE", f"/v1/drafts/{key}")
        if answer.status in (200, 204, 404):
            self.counts.writes += answer.status != 404
        elif answer.status not in (0, 429, 503):
            self._refused(f"draft {key} delete", answer)
        return answer

    async def _tracks_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tracks_every_s)
            if self._tracks:
                batch, self._tracks = list(self._tracks.values()), {}
                self._submit("tracks", _Job(partial(self._post_tracks, batch), "tracks"))

    async def _post_tracks(self, batch: list[dict[str, Any]]) -> Answer:
        answer = await self.api.request("POST", "/v1/tracks", json_body={"tracks": batch})
        if answer.status == 200:
            self.counts.writes += 1
        elif answer.status not in (0, 429, 503):
            self._refused("tracks", answer)
        return answer

    def status(self, connections: int) -> str:
        """The status line."""
        c = self.counts
        held = sum(1 for d in self.devices.values() if d.state.held is not None)
        line = (
            f"gateway: devices {connections}, reports in {c.reports}, writes {c.writes}, "
            f"held {held}, skipped {c.skipped}, refused {c.refused} "
            f"(spoofed {c.spoofs}, another party's {c.elsewhere}, too many uids {c.too_many}, "
            f"bad {c.bad})"
        )
        return line + (f", last error: {c.last_error}" if c.last_error else "")


def _withdrawn(answer: Answer) -> bool:
    """Whether a 409 says the declaration is no longer in force."""
    return "withdrawn" in answer.detail.lower()
