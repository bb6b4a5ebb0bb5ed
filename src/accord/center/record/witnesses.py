"""The center asks each party's witness to cosign its heads: the client side of C2SP
tlog-witness v1, and what the served head says of its witnesses.

**The loop** (:func:`witness_loop`, a background job of every serving process,
:mod:`accord.center.bootstrap`): once a tick (``Settings.witness_interval_s``) it signs a
head when the log has grown (:func:`~accord.center.record.heads.latest_head`: one head per
group of changes) and hands it to one follower task per witness. A follower asks its
witness (:func:`ask_witness`) for the latest head it was handed, one request at a time,
each bounded by :data:`REQUEST_TIMEOUT_S`; after a failure it waits (1, 2, 4 … up to
:data:`BACKOFF_MAX_S` seconds) and asks again with the latest head. Every follower runs on
its own, and none of them is on a write's way: a write never waits for a witness, and a
witness that is down or slow delays neither the writes nor the other witnesses. Each
witness's head is handed to all followers together, so the witnesses usually cosign the
same heads and a head becomes *witnessed* (every party's witness cosigned it).

**One request** (c2sp.org/tlog-witness "add-checkpoint"): ``POST <url>/add-checkpoint``
with ``old N`` — the size this witness last cosigned, as the database says
(``record_witnesses``) — the consistency proof from ``N`` to the head's size (the center's
log computes it), an empty line and the signed checkpoint. On 409 the witness's body
(``text/x.tlog.size``) is the size it last cosigned: the proof is built again from that size
and the request sent once more (a witness that lost its state answers 0; one that is ahead of
this head — a restore, DECISIONS 14 — is reported, never followed back). On 200 every line
of the witness's key in the answer is verified (tlog-cosignature: key ID, timestamp,
Ed25519 over ``cosignature/v1``, ``time``, the checkpoint) and added to the stored head by
the one code path that adds a member's cosignature
(:func:`~accord.center.record.heads.add_cosignature_line`). Anything else — another status,
a body that is no signature line, a line that does not verify, no line by the witness's key
— adds nothing, is logged and kept as the witness's last error, and the follower backs off.

**Several server processes or nodes** on one database each run the loop: they may send the
same witness the same ``old N`` at once. The witness checks the old size and writes the new
one in one atomic step (its own SQLite), so one request wins and the other is answered 409
with the size the winner moved it to — harmless: the loser retries from that size, or finds
the head already cosigned. The center's side cannot go back either: the witness's row is
read and written inside a unit of work (which holds the database's write lock), and its size
is only ever moved forward (``max``), so a late answer about a smaller head never lowers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import anyio.to_thread
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.agreement import WitnessRef
from accord.center.db.models import RecordHead, RecordWitness
from accord.center.record.heads import add_cosignature_line, latest_head
from accord.center.runtime import Center
from accord.errors import AccordError, FormatError, SignatureError, WitnessFailed
from accord.record.canonical import encode_base64
from accord.record.note import SignedHead, parse_note, verify_cosignatures
from accord.record.witness_protocol import MAX_PROOF_LINES, SIZE_CONTENT_TYPE

__all__ = [
    "BACKOFF_MAX_S",
    "MAX_ANSWER_BYTES",
    "REQUEST_TIMEOUT_S",
    "HeadWitnesses",
    "WitnessFailed",
    "WitnessState",
    "add_checkpoint_body",
    "ask_witness",
    "head_witnesses",
    "witness_loop",
    "witnessed_size",
]

REQUEST_TIMEOUT_S = 5.0
"""The longest one request to a witness may take (connecting, sending, answering)."""

BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 60.0
"""After failures a follower waits 1, 2, 4 … seconds, at most this long, before asking again."""

MAX_ANSWER_BYTES = 64 * 1024
"""A witness's answer longer than this is refused unread (a few signature lines are ~150 B)."""

_LAST_WITNESSED_SEARCH = 16
"""How many stored heads back :func:`head_witnesses` looks for the last witnessed head."""

_log = logging.getLogger("accord.center.witnesses")


def add_checkpoint_body(old: int, proof: list[bytes], note: str) -> bytes:
    """c2sp.org/tlog-witness add-checkpoint body: ``old <N>``, one base64 hash a line, an
    empty line, the signed checkpoint (every line ends in a newline)."""
    if len(proof) > MAX_PROOF_LINES:  # pragma: no cover - 2 log2(size) < 63 for any real log
        raise FormatError(f"a consistency proof of {len(proof)} lines; at most 63 may be sent")
    lines = "".join(f"{encode_base64(h)}\n" for h in proof)
    return f"old {old}\n{lines}\n{note}".encode()


# --- one witness, one head ------------------------------------------------------------------


def _known_size(center: Center, party: str, ref: WitnessRef) -> int:
    with center.reading() as session:
        row = session.get(RecordWitness, ref.name)
        return 0 if row is None else int(row.size)


def _proof(center: Center, old: int, size: int) -> list[bytes]:
    if old in (0, size):  # tlog-witness: from size 0 the proof is empty; same size, too
        return []
    with center.reading() as session:
        return center.log(session).consistency_proof(old, size)


def _row(session: Session, party: str, ref: WitnessRef) -> RecordWitness:
    row = session.get(RecordWitness, ref.name)
    if row is None:
        row = RecordWitness(name=ref.name, party=party, size=0)
        session.add(row)
    return row


def _accept(center: Center, party: str, ref: WitnessRef, head: SignedHead, answer: str) -> int:
    """The witness's 200 answer verified and its line added to the stored head; its size
    moved forward. Returns the cosignature's timestamp."""
    note = head.note + answer
    try:
        parse_note(note)
        timestamp = verify_cosignatures(note, witnesses=[ref.key]).get(ref.name)
    except (FormatError, SignatureError) as error:
        raise WitnessFailed(f"the witness's answer is refused: {error}") from None
    if timestamp is None:
        raise WitnessFailed("the witness's answer carries no cosignature by its key")
    with center.writing() as unit:
        add_cosignature_line(unit, center, ref.key, note)
        row = _row(unit.session, party, ref)
        if head.size >= row.size:  # only ever forward (see the module's description)
            row.size = head.size
            row.cosigned_at = timestamp
        row.error = None
        row.error_at = None
    return timestamp


def _failed(center: Center, party: str, ref: WitnessRef, message: str) -> None:
    with center.writing() as unit:
        row = _row(unit.session, party, ref)
        if row.error_at is None:
            row.error_at = int(center.now().timestamp())
        row.error = message[:500]


async def _post(client: httpx.AsyncClient, url: str, body: bytes) -> tuple[int, str, bytes]:
    """POST ``body``; the status, the media type and the answer (refused past
    :data:`MAX_ANSWER_BYTES`, read no further)."""
    async with client.stream("POST", url, content=body, timeout=REQUEST_TIMEOUT_S) as answer:
        read = bytearray()
        async for chunk in answer.aiter_bytes():
            read += chunk
            if len(read) > MAX_ANSWER_BYTES:
                raise WitnessFailed(f"{url} answered more than {MAX_ANSWER_BYTES} bytes")
        kind = answer.headers.get("content-type", "").split(";")[0].strip()
        return answer.status_code, kind, bytes(read)


async def ask_witness(
    client: httpx.AsyncClient, center: Center, party: str, ref: WitnessRef, head: SignedHead
) -> int | None:
    """Ask ``party``'s witness ``ref`` to cosign ``head`` (see the module's description);
    the cosignature's timestamp once its line is on the stored head, or None when the
    witness already cosigned this size or a larger one. Raises :class:`WitnessFailed`."""
    old = await anyio.to_thread.run_sync(_known_size, center, party, ref)
    if old >= head.size:
        return None
    for attempt in (1, 2):
        proof = await anyio.to_thread.run_sync(_proof, center, old, head.size)
        try:
            with anyio.fail_after(REQUEST_TIMEOUT_S):  # the whole exchange, not each read
                status, kind, body = await _post(
                    client, f"{ref.url}/add-checkpoint", add_checkpoint_body(old, proof, head.note)
                )
        except TimeoutError:
            raise WitnessFailed(f"no answer from {ref.url} within {REQUEST_TIMEOUT_S} s") from None
        except httpx.HTTPError as error:
            raise WitnessFailed(f"no answer from {ref.url}: {error!r}") from None
        if status == 409 and attempt == 1:
            size = _cosigned_size(kind, body)
            if size > head.size:
                raise WitnessFailed(
                    f"the witness has cosigned size {size}, beyond the head of size "
                    f"{head.size}: it will be asked again with a larger head"
                )
            old = size
            continue
        if status != 200:
            text = body.decode("utf-8", "replace").strip()
            raise WitnessFailed(f"{ref.url} answered {status}: {text[:200]}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WitnessFailed("the witness's answer is not UTF-8") from None
        return await anyio.to_thread.run_sync(_accept, center, party, ref, head, text)
    raise WitnessFailed("the witness answered 409 twice")


def _cosigned_size(kind: str, body: bytes) -> int:
    """The size a witness's 409 names (tlog-witness: the latest it cosigned, its body
    ``text/x.tlog.size``); :class:`WitnessFailed` for a 409 without one."""
    text = body.decode("ascii", "replace")
    if kind != SIZE_CONTENT_TYPE or not text.endswith("\n") or not text[:-1].isdigit():
        raise WitnessFailed(f"409 without a {SIZE_CONTENT_TYPE} size: {text[:80]!r}")
    return int(text[:-1])


def witnessed_size(ref: WitnessRef, *, note: str, size: int) -> int:
    """The largest size ``ref``'s witness has cosigned for this log, asked as a restore must
    before it serves anything (DECISIONS 14): an add-checkpoint from ``old 0`` with the
    center's signed ``note`` (a head of ``size``). c2sp.org/tlog-witness: a witness that
    holds a size answers 409 with it (``text/x.tlog.size``); one that holds none cosigns
    ``note`` (200), so its size is now ``size``. Raises :class:`WitnessFailed` for anything
    else (unreachable, another status, a malformed size)."""
    body = add_checkpoint_body(0, [], note)
    try:
        url = f"{ref.url}/add-checkpoint"
        with (
            httpx.Client(timeout=REQUEST_TIMEOUT_S) as client,
            client.stream("POST", url, content=body) as answer,
        ):
            read = bytearray()
            for chunk in answer.iter_bytes():
                read += chunk
                if len(read) > MAX_ANSWER_BYTES:
                    raise WitnessFailed(f"{ref.url} answered more than {MAX_ANSWER_BYTES} B")
            status = answer.status_code
            kind = answer.headers.get("content-type", "").split(";")[0].strip()
    except httpx.HTTPError as error:
        raise WitnessFailed(f"no answer from {ref.url}: {error!r}") from None
    if status == 200:
        return size
    if status == 409:
        return _cosigned_size(kind, bytes(read))
    text = bytes(read).decode("utf-8", "replace").strip()
    raise WitnessFailed(f"{ref.url} answered {status}: {text[:200]}")


# --- the loop -------------------------------------------------------------------------------


class _Follower:
    """One witness's task: asks for the latest head it was handed, backs off on failure."""

    def __init__(
        self,
        center: Center,
        client: httpx.AsyncClient,
        party: str,
        ref: WitnessRef,
        cosigned: Callable[[str, int], None] | None,
    ) -> None:
        self.center, self.client, self.party, self.ref = center, client, party, ref
        self.cosigned = cosigned
        self.head: SignedHead | None = None
        self.wake = asyncio.Event()

    def offer(self, head: SignedHead) -> None:
        self.head = head
        self.wake.set()

    async def run(self) -> None:
        backoff = 0.0
        while True:
            await self.wake.wait()
            self.wake.clear()
            head = self.head
            assert head is not None
            try:
                done = await ask_witness(self.client, self.center, self.party, self.ref, head)
                if done is not None and self.cosigned is not None:
                    self.cosigned(self.party, head.size)
                backoff = 0.0
                continue
            except AccordError as error:
                message = str(error)
            except Exception as error:  # a witness must never stop the center's work
                message = f"{type(error).__name__}: {error}"
            _log.warning("witness %s of %s: %s", self.ref.name, self.party, message)
            with contextlib.suppress(Exception):
                await anyio.to_thread.run_sync(_failed, self.center, self.party, self.ref, message)
            backoff = min(BACKOFF_MAX_S, max(BACKOFF_MIN_S, backoff * 2))
            await asyncio.sleep(backoff)
            self.wake.set()  # ask again, with whatever head is the latest by then


async def witness_loop(
    center: Center,
    *,
    interval: float,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    cosigned: Callable[[str, int], None] | None = None,
) -> None:
    """Sign a head when the log has grown, every ``interval`` seconds, and have every
    party's witness asked to cosign it (see the module's description); runs until
    cancelled. Returns at once when the agreement names no witness. ``mounts``: HTTP
    transports by URL pattern (the tests' witnesses in process); ``cosigned``: called with
    the party and the size each time a witness's line has joined a head."""
    witnesses = center.agreement.witnesses
    if not witnesses:
        return
    async with httpx.AsyncClient(mounts=dict(mounts or {}), trust_env=False) as client:
        followers = [_Follower(center, client, p, ref, cosigned) for p, ref in witnesses.items()]
        tasks = [asyncio.create_task(f.run()) for f in followers]
        try:
            offered = -1
            while True:
                try:
                    head = await anyio.to_thread.run_sync(latest_head, center)
                except Exception as error:  # pragma: no cover - the database is away: next tick
                    _log.warning("witnesses: no head to offer: %s", error)
                else:
                    if head.size != offered:
                        offered = head.size
                        for follower in followers:
                            follower.offer(head)
                await asyncio.sleep(interval)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


# --- what the served head says of its witnesses ---------------------------------------------


@dataclass(frozen=True, slots=True)
class WitnessState:
    """A party's witness as the served head shows it: ``cosigned`` whether its line is on
    this head; ``size`` and ``cosigned_at`` the largest head it cosigned and that
    cosignature's time (0 and None: none yet); ``behind_since`` when it is behind, the time
    of the first head the center signed that it has not cosigned; ``error`` its last
    failure, if the last request failed."""

    party: str
    name: str
    cosigned: bool
    size: int
    cosigned_at: int | None
    behind_since: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class HeadWitnesses:
    """The witnesses of a served head: ``witnessed`` when every party's witness has cosigned
    it (at ``witnessed_at``, the last of their cosignatures' times); ``last_witnessed`` the
    size and time of the largest recent head that is (None: none found)."""

    witnesses: tuple[WitnessState, ...]
    witnessed: bool
    witnessed_at: int | None
    last_witnessed: tuple[int, int] | None


def _all_signed(note: str, refs: Mapping[str, WitnessRef]) -> int | None:
    """The last of the witnesses' cosignature times when all of them cosigned ``note``."""
    try:
        times = verify_cosignatures(note, witnesses=[r.key for r in refs.values()])
    except (FormatError, SignatureError):
        return None
    if len(times) < len(refs):
        return None
    return max(times.values())


def head_witnesses(center: Center, head: SignedHead) -> HeadWitnesses:
    """What ``head`` (as stored, with its cosignatures) says of the parties' witnesses."""
    refs = center.agreement.witnesses
    if not refs:
        return HeadWitnesses((), False, None, None)
    on_head = verify_cosignatures(head.note, witnesses=[r.key for r in refs.values()])
    states = []
    with center.reading() as session:
        rows = {r.name: r for r in session.scalars(select(RecordWitness))}
        for party, ref in refs.items():
            row = rows.get(ref.name)
            size = 0 if row is None else int(row.size)
            cosigned = ref.name in on_head
            behind = None
            if not cosigned:
                first = session.scalars(
                    select(RecordHead.timestamp)
                    .where(RecordHead.size > size)
                    .order_by(RecordHead.size)
                    .limit(1)
                ).first()
                behind = int(first) if first is not None else head.timestamp
            states.append(
                WitnessState(
                    party=party,
                    name=ref.name,
                    cosigned=cosigned,
                    size=max(size, head.size) if cosigned else size,
                    cosigned_at=on_head.get(ref.name) if row is None else row.cosigned_at,
                    behind_since=behind,
                    error=None if row is None else row.error,
                )
            )
        witnessed_at = _all_signed(head.note, refs)
        last = None if witnessed_at is None else (head.size, witnessed_at)
        if last is None:
            floor = min(s.size for s in states)
            notes = session.execute(
                select(RecordHead.size, RecordHead.note)
                .where(RecordHead.size <= floor, RecordHead.size > 0)
                .order_by(RecordHead.size.desc())
                .limit(_LAST_WITNESSED_SEARCH)
            ).all()
            for size, note in notes:
                at = _all_signed(note, refs)
                if at is not None:
                    last = (int(size), at)
                    break
    return HeadWitnesses(tuple(states), witnessed_at is not None, witnessed_at, last)
