"""Per-member limits by cost: the writer's time, the server's read time, live streams.

One request within the agreement's limits is bounded by its geometry (see
:class:`~accord.agreement.Limits`); this module bounds what one member does with many:

* **Writes** are charged what they cost: the time their unit of work took in the writer
  (:class:`Timed`, measured where the work runs, the writer process included). Each member
  has a bucket of ``writer_burst_s`` seconds refilled at ``writer_share`` seconds per second;
  a write is admitted while the bucket is above zero, else refused with 429 and
  ``Retry-After`` (the seconds until it is above zero again). A member's writes in the
  writer's queue at once are at most ``writes_in_flight``: more wait their turn *outside*
  the queue, so another party's write never queues behind more than that many of one
  member's units, each bounded by the limits. Writes that protect the writer's member or
  answer another party — a cancellation, a withdrawal, a veto, an objection and its
  withdrawal, an acknowledgement, an imminent-threat report after the fact, a presence
  heartbeat — are charged but never refused (DECISIONS 3): being slowed must not stop a party
  from standing down or answering on time.
* **Reads** whose answer grows with the world or the record (:data:`EXPENSIVE_READS`) are
  charged the time the server took to answer them, against a second bucket
  (``read_burst_s``, ``read_share``); over it, 429 with ``Retry-After``.
* **Live event streams** (``GET /v1/events`` asking for ``text/event-stream``): at most
  ``event_streams_per_user`` open at once per user; one more is refused with 429.

The buckets live in the serving process (one per node): with ``--writer-process`` every write
of the node goes through them. (Several nodes over one database each keep their own; see
the README's *Limits*.)
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

from accord.agreement import Limits
from accord.center.http.problems import ProblemError, problem_response
from accord.center.identity import Caller
from accord.center.runtime import Center, CenterCache, Unit

__all__ = [
    "ESSENTIAL",
    "EXPENSIVE_READS",
    "GATE",
    "Admission",
    "AdmissionGate",
    "AdmissionLimits",
    "Timed",
    "admission",
]

T = TypeVar("T")

ESSENTIAL: tuple[str, ...] = (
    "/cancel",
    "/withdraw",
    "/veto",
    "/object",
    "/withdraw-objection",
    "/acknowledge",
    "/operations/report",
    "/presence",
)
"""Path endings of the writes that are charged but never refused (see the module docstring)."""

EXPENSIVE_READS: tuple[str, ...] = (
    "/v1/world",
    "/v1/picture",
    "/v1/compliance",
    "/v1/record/entries",
    "/v1/declarations",
    "/v1/operations",
    "/v1/messages",
    "/v1/tracks",
    "/v1/alerts",
    "/v1/events",
)
"""Reads whose answer grows with the world or the record: charged the server time they take.
The others (who am I, the agreement, the head, a proof, the keys) cost a look-up each."""

_EVENTS = "/v1/events"
_EVENT_STREAM = b"text/event-stream"


@dataclass(slots=True)
class _Bucket:
    """Seconds left (may go below zero: a write is charged after it ran) as of ``at``."""

    level: float
    at: float


@dataclass(slots=True)
class _Stats:
    """What the gate did, for tests and benchmarks."""

    refused: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)
    streams_refused: int = 0


class _Budget:
    """Token buckets of seconds, one per member."""

    def __init__(self, burst_s: float, share: float, clock: Callable[[], float]) -> None:
        self.burst_s = burst_s
        self.share = share
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, member: str, now: float) -> _Bucket:
        bucket = self._buckets.get(member)
        if bucket is None:
            bucket = self._buckets[member] = _Bucket(self.burst_s, now)
        else:
            bucket.level = min(self.burst_s, bucket.level + (now - bucket.at) * self.share)
            bucket.at = now
        return bucket

    def wait_s(self, member: str) -> float:
        """0 when ``member`` may go on; else the seconds until it may."""
        with self._lock:
            bucket = self._bucket(member, self._clock())
            return 0.0 if bucket.level > 0 else (1e-3 - bucket.level) / self.share

    def spend(self, member: str, seconds: float) -> None:
        with self._lock:
            self._bucket(member, self._clock()).level -= max(0.0, seconds)


def _slowed(what: str, wait_s: float) -> ProblemError:
    retry = max(1, math.ceil(wait_s))
    return ProblemError(
        429,
        f"{what}: the member has used its share of the center's time; retry in {retry} s",
        kind="rate-limited",
        headers={"Retry-After": str(retry)},
    )


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    """The part of the agreement's :class:`~accord.agreement.Limits` the gate applies."""

    writer_share: float
    writer_burst_s: float
    writes_in_flight: int
    read_share: float
    read_burst_s: float
    event_streams_per_user: int

    @classmethod
    def of(cls, limits: Limits) -> AdmissionLimits:
        return cls(
            limits.writer_share,
            limits.writer_burst_s,
            limits.writes_in_flight,
            limits.read_share,
            limits.read_burst_s,
            limits.event_streams_per_user,
        )


class Admission:
    """One service's gate (see the module docstring); ``clock``: monotonic seconds."""

    def __init__(
        self, limits: AdmissionLimits, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self.writes = _Budget(limits.writer_burst_s, limits.writer_share, clock)
        self.reads = _Budget(limits.read_burst_s, limits.read_share, clock)
        self.stats = _Stats()
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._in_flight: dict[str, int] = {}
        self._waiting: dict[str, int] = {}
        self._streams: dict[int, int] = {}
        self._lock = threading.Lock()

    # --- writes ---------------------------------------------------------------------------

    def admit_write(self, member: str, path: str) -> None:
        """Raise a 429 :class:`ProblemError` if ``member`` has spent its writer time (never
        for an essential write, :data:`ESSENTIAL`)."""
        if path.endswith(ESSENTIAL):
            return
        wait = self.writes.wait_s(member)
        if wait > 0:
            self.stats.refused[member] = self.stats.refused.get(member, 0) + 1
            raise _slowed("writes", wait)

    @asynccontextmanager
    async def slot(self, member: str) -> AsyncIterator[None]:
        """Hold one of ``member``'s places in the writer's queue (waiting for one)."""
        semaphore = self._slots.get(member)
        if semaphore is None:
            semaphore = self._slots[member] = asyncio.Semaphore(self.limits.writes_in_flight)
        self._waiting[member] = self._waiting.get(member, 0) + 1
        try:
            await semaphore.acquire()
        finally:
            self._waiting[member] -= 1
        try:
            now = self._in_flight[member] = self._in_flight.get(member, 0) + 1
            if now > self.stats.most_in_flight.get(member, 0):
                self.stats.most_in_flight[member] = now
            try:
                yield
            finally:
                self._in_flight[member] -= 1
        finally:
            semaphore.release()

    def in_flight(self, member: str) -> int:
        """``member``'s writes in the writer's queue now."""
        return self._in_flight.get(member, 0)

    def waiting(self, member: str) -> int:
        """``member``'s writes waiting outside the writer's queue for a place."""
        return self._waiting.get(member, 0)

    # --- streams --------------------------------------------------------------------------

    def open_stream(self, user_id: int) -> bool:
        with self._lock:
            open_now = self._streams.get(user_id, 0)
            if open_now >= self.limits.event_streams_per_user:
                self.stats.streams_refused += 1
                return False
            self._streams[user_id] = open_now + 1
            return True

    def close_stream(self, user_id: int) -> None:
        with self._lock:
            left = self._streams.get(user_id, 1) - 1
            if left > 0:
                self._streams[user_id] = left
            else:
                self._streams.pop(user_id, None)


GATE: CenterCache[Admission] = CenterCache(
    "the admission gate", lambda center: Admission(AdmissionLimits.of(center.agreement.limits))
)
"""The key of each center's gate (made with the center: see :mod:`accord.center.bootstrap`)."""


def admission(center: Center) -> Admission:
    """The gate of ``center`` (one per service)."""
    return center.cache(GATE)


@dataclass(frozen=True, slots=True)
class Timed(Generic[T]):
    """A unit's work and the time it took where it ran (the writer thread or process): what
    the member is charged. A plain value, so that a writer process can receive it pickled."""

    work: Callable[[Unit], T]
    member: str = ""
    """Whom the work is for: the writer takes members' works in turn
    (:class:`accord.center.runtime.Center`'s writer queue)."""

    def __call__(self, unit: Unit) -> tuple[T, float]:
        started = time.perf_counter()
        result = self.work(unit)
        return result, time.perf_counter() - started


# --- reads and streams: ASGI middleware ----------------------------------------------------


def _accepts_stream(scope: Scope) -> bool:
    return any(
        name == b"accept" and _EVENT_STREAM in value for name, value in scope.get("headers", ())
    )


class AdmissionGate:
    """ASGI middleware, after authentication: charges every expensive read the time it
    took and refuses a member over its read budget (429, ``Retry-After``); caps each user's
    live event streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = scope.get("state", {}).get("caller") if scope["type"] == "http" else None
        if not isinstance(caller, Caller) or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        gate = admission(scope["app"].state.center)
        if scope["path"] == _EVENTS and _accepts_stream(scope):
            if not gate.open_stream(caller.user_id):
                most = gate.limits.event_streams_per_user
                await problem_response(
                    429,
                    f"a user holds at most {most} live event streams at once; close one first",
                    kind="too-many-streams",
                    headers={"Retry-After": "5"},
                )(scope, receive, send)
                return
            try:
                await self.app(scope, receive, send)
            finally:
                gate.close_stream(caller.user_id)
            return
        if not scope["path"].startswith(EXPENSIVE_READS):
            await self.app(scope, receive, send)
            return
        wait = gate.reads.wait_s(caller.member)
        if wait > 0:
            gate.stats.refused[caller.member] = gate.stats.refused.get(caller.member, 0) + 1
            error = _slowed("reads", wait)
            await problem_response(429, error.detail, kind=error.kind, headers=error.headers)(
                scope, receive, send
            )
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            gate.reads.spend(caller.member, time.perf_counter() - started)
