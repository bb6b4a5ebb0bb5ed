"""One round of a party's monitor, its alarms and its evidence — no HTTP, no clock of its own.

A round (:meth:`Monitor.step`):

1. fetch the center's checkpoint (``/tlog/checkpoint``) and verify the center's signature on
   it (its 0x01 log signature and/or its 0x04 timestamped line, :func:`~accord.record.note.
   verify_checkpoint`) — else ``invalid_head``;
2. compare it with the last tree the monitor verified (its own copy, :mod:`.state`):
   smaller — ``rollback`` (or ``split_view`` when its root is not the root of the monitor's
   copy at that size); the same size with another root — ``split_view``; larger — open the
   tiles of the new tree (every tile checked against the signed root,
   :class:`~accord.record.tiles.TiledLog`) and check its consistency with the verified tree
   by an RFC 9162 proof built from them — a tree that does not extend it is ``rewritten``;
3. fetch only the new entries' bundles, check each entry against its leaf hash in the
   checked tiles (``rewritten``, naming the entry, when one does not hash), then verify them
   as ``accord verify`` does (:class:`~accord.record.verify.EntryStream`: envelope, place,
   chain link, canonical form, signature, each author's sequence running on, a rooted log's
   acts against the keys the parties' roots certified) — ``invalid_entry`` naming the entry;
   append them to the party's copy and keep the head;
4. compare with the witnesses (the party's own, then the other parties' — the strongest check
   of a split view is a head that another party's witness cosigned): a checkpoint a witness
   cosigned (its cosignature verified with its key from the agreement, the center's
   signature on it verified) whose size the monitor has verified must have the root of its
   copy at that size — else ``split_view``; one larger than the center serves this monitor
   for longer than ``stall_after`` is ``stalled`` (the center withholds from this party what
   it showed the witnesses).

**A stalled log.** The center signs a head when its log has grown (:mod:`accord.center.
record.heads`), never to say "nothing new": an idle center's checkpoint keeps its old
timestamp, and that is no fault. So a log is ``stalled`` when, for longer than
``stall_after`` seconds, (a) the center gave this monitor no checkpoint, tile or bundle it
could read (errors and timeouts, retried meanwhile), or (b) a witness showed a cosigned head
of the center's larger than the checkpoint the center serves this monitor.

**Evidence.** A split view or a rewrite is two heads signed by the center that cannot both
be true; they are written with the consistency proof that shows it
(:mod:`accord.record.evidence`'s format) to ``DIR/evidence/<time>-<kind>.json``, which
``accord verify --evidence`` proves to a third party. A tile or an entry
that does not hash to the signed checkpoint is an alarm (``rewritten``, naming the entry) but
no proof to a third party: the served bytes are unsigned.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, Protocol

from accord.errors import (
    CommitmentError,
    FormatError,
    MonitorAlarm,
    ProofError,
    RecordError,
    Unavailable,
    VerificationError,
)
from accord.record.canonical import loads_canonical
from accord.record.commitments import open_commitment
from accord.record.entries import open_envelope
from accord.record.evidence import split_view_consistency, split_view_evidence
from accord.record.keys import SIG_ED25519_COSIGNATURE, KeyRing, PublicKey
from accord.record.note import SignedHead, verify_checkpoint, verify_cosignatures
from accord.record.tiles import TILE_WIDTH, TiledLog, entries_path, parse_bundle
from accord.record.verify import EntryStream

from .state import Opening, State

__all__ = [
    "EXIT_CODES",
    "KINDS",
    "Monitor",
    "MonitorAlarm",
    "Opening",
    "Sources",
    "WitnessSource",
    "adopted_witnesses",
]

EXIT_CODES: Mapping[str, int] = {
    "rewritten": 10,
    "split_view": 11,
    "rollback": 12,
    "invalid_entry": 13,
    "invalid_head": 14,
    "stalled": 15,
    "commitment": 16,
}
"""``accord monitor``'s exit status for each alarm kind."""
KINDS = frozenset(EXIT_CODES)

BATCH = 16_384
"""Entries fetched and checked together (64 bundles): the next batch is fetched while the
workers verify the one before."""


@dataclass(frozen=True, slots=True)
class WitnessSource:
    """A party's witness as the monitor reads it: the party, its cosigning key (type 0x04,
    from the agreement) and whether it is this monitor's own party's."""

    party: str
    key: PublicKey
    own: bool = False
    url: str | None = None
    """Its base URL (``GET <url>/<hex SHA-256 of the origin>/checkpoint``), when known."""


class Sources(Protocol):
    """Where a round reads from (:mod:`accord.monitor.http` over HTTP; a test's dictionary).
    Each raises :class:`~accord.errors.Unavailable` when it cannot answer now."""

    def checkpoint(self) -> str:
        """The center's latest checkpoint (``/tlog/checkpoint``), as served."""
        ...

    def tile(self, path: str) -> bytes:
        """A tile or bundle of the center's tiled log (``tile/0/x001/002``)."""
        ...

    def witness(self, witness: WitnessSource) -> str | None:
        """The checkpoint ``witness`` last cosigned (None: it has cosigned none)."""
        ...

    def openings(self) -> list[Opening] | None:
        """The openings the center serves this monitor's party for its own commitments
        (None: none can be read with this monitor's token)."""
        ...

    def message_openings(self, ids: Sequence[str]) -> list[Opening]:
        """The openings of the party's sent messages ``ids`` (one the token may not read,
        or the center no longer has, is left out)."""
        ...


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class Monitor:
    """A party's monitor of the log whose center key is ``keys.center``.

    ``state`` is its folder (:class:`~accord.monitor.state.State`): on construction the
    party's copy held there is verified again, locally (no fetch), so a restarted monitor
    resumes where it stopped. ``clock`` gives seconds (POSIX); ``agreement``/``roots``/
    ``causes`` are :func:`~accord.record.verify.verify_log`'s; ``workers`` the processes that
    check signatures. Use as a context manager, or :meth:`close` it.
    """

    def __init__(
        self,
        *,
        keys: KeyRing,
        sources: Sources,
        state: State,
        clock: Callable[[], float],
        stall_after: float,
        witnesses: Sequence[WitnessSource] | None = (),
        agreement: Mapping[str, Any] | None = None,
        roots: Mapping[str, PublicKey] | None = None,
        causes: Mapping[str, Sequence[str]] | None = None,
        workers: int = 1,
        batch: int = BATCH,
        party: str | None = None,
    ) -> None:
        self.keys = keys
        self.party = party
        self.origin = keys.center.name
        self._sources = sources
        self.state = state
        self._clock = clock
        self.stall_after = stall_after
        self.witnesses: tuple[WitnessSource, ...] = tuple(witnesses or ())
        self._adopted_witnesses = witnesses is None
        """None given: the witnesses the agreement adopted by entry 0 names (unpinned)."""
        self._batch = max(TILE_WIDTH, batch - batch % TILE_WIDTH)
        self._stream = EntryStream(
            keys=keys, agreement=agreement, roots=roots, causes=causes, workers=workers
        )
        self.head: SignedHead | None = None
        """The latest head verified (None: none yet)."""
        self.notes: list[str] = []
        """What the last round saw that is no alarm (a witness unreachable, behind)."""
        meta = state.meta()
        last_ok = meta.get("last_ok")
        self._last_ok = float(last_ok) if isinstance(last_ok, int | float) else clock()
        ahead = meta.get("ahead")
        self._ahead: dict[str, float] = (
            {str(k): float(v) for k, v in ahead.items() if isinstance(v, int | float)}
            if isinstance(ahead, dict)
            else {}
        )
        unopened = meta.get("unopened")
        self._unopened: set[int] = (
            {i for i in unopened if isinstance(i, int)} if isinstance(unopened, list) else set()
        )
        """The party's own commitments in the verified copy whose opening was not checked."""
        try:
            self._resume()
        except BaseException:
            self._stream.close()
            raise

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()

    @property
    def size(self) -> int:
        """How many entries the monitor verified (its copy's size)."""
        return self._stream.size

    # --- resuming -----------------------------------------------------------------------

    def _resume(self) -> None:
        log = self.state.log
        n = log.size

        def local() -> Iterator[list[bytes]]:
            for start in range(0, n, self._batch):
                yield self.state.leaves(start, min(n, start + self._batch))

        self._stream.extend(local(), reread=self.state.leaves)
        if self._stream.root() != log.root():
            raise VerificationError(None, "the state's copy does not hash to its own tree")
        stored = log.latest_head()
        if stored is not None:
            self.head = verify_checkpoint(stored.note, origin=self.origin, center=self.keys.center)

    # --- a round ------------------------------------------------------------------------

    def step(self) -> None:
        """One round (see the module docstring). Returns None when all is well; raises
        :class:`MonitorAlarm` for a fault of the center's, :class:`~accord.errors.
        Unavailable` when the center could not be read this time (not yet stalled)."""
        self.notes = []
        now = self._clock()
        try:
            self._round(now)
        finally:
            self.state.save_meta(
                {
                    "last_ok": self._last_ok,
                    "ahead": self._ahead,
                    "unopened": sorted(self._unopened),
                }
            )

    def _round(self, now: float) -> None:
        note = self._read(self._sources.checkpoint, now)
        head = self._verify_head(note)
        mine = self._stream.size
        if head.size < mine:
            if self.state.log.root(head.size) != head.root:
                self._other_root(head, a=head)
            raise MonitorAlarm(
                "rollback",
                f"rollback: the center serves a head of size {head.size}, below the "
                f"{mine} entries this monitor verified",
                sizes=(mine, head.size),
            )
        if head.size == mine:
            if head.root != self._stream.root():
                self._other_root(head, b=head)
            if self.head is None or self.head.note != head.note:
                self._keep(head)  # the same tree; its note may carry new cosignatures
        else:
            self._grow(head, now)
        self._last_ok = now
        if self._adopted_witnesses and not self.witnesses and self._stream.size:
            self.witnesses = adopted_witnesses(self.state.leaves(0, 1)[0], party=self.party)
            if self.witnesses:
                self.notes.append(
                    "comparing with the witnesses named by the agreement entry 0 adopts "
                    f"({', '.join(w.party for w in self.witnesses)}; unpinned: give "
                    "--agreement to compare with your own copy's)"
                )
        self._compare_witnesses(now)
        self._open_own()

    def _other_root(
        self, head: SignedHead, *, a: SignedHead | None = None, b: SignedHead | None = None
    ) -> NoReturn:
        """``split_view``: ``head``'s root is not the verified copy's at its size — with the
        evidence when the copy is under a head of the center's (``head`` is then ``a``, the
        smaller, or ``b``)."""
        if self.head is not None and self.head.size >= head.size:
            mine = self.head
            self._two_histories(a or mine, b or mine, "split_view", where="now serves")
        raise MonitorAlarm(
            "split_view",
            f"split_view: the center serves a head of size {head.size} whose root is not the "
            f"root of the {head.size} entries this monitor verified",
            sizes=(self._stream.size, head.size),
        )

    def _read(self, read: Callable[[], Any], now: float) -> Any:
        try:
            return read()
        except Unavailable as error:
            self._stalled_or(error, now)

    def _stalled_or(self, error: Unavailable, now: float) -> NoReturn:
        if now - self._last_ok > self.stall_after:
            raise MonitorAlarm(
                "stalled",
                f"stalled: the center gave no log this monitor could read for "
                f"{now - self._last_ok:.0f} s (over {self.stall_after:g} s): {error}",
                sizes=(self._stream.size,),
            ) from None
        raise error

    def _verify_head(self, note: str) -> SignedHead:
        try:
            return verify_checkpoint(note, origin=self.origin, center=self.keys.center)
        except RecordError as error:
            raise MonitorAlarm(
                "invalid_head",
                f"invalid_head: the checkpoint served is no head of {self.origin} signed by "
                f"the center's key: {error}",
                sizes=(self._stream.size,),
            ) from None

    def _latest(self) -> SignedHead:
        assert self.head is not None  # a copy of more than 0 entries came under a head
        return self.head

    def _keep(self, head: SignedHead) -> None:
        self.state.log.add_head(head.size, head.root, head.timestamp or 0, head.note)
        self.head = head

    def _two_histories(
        self, a: SignedHead, b: SignedHead, kind: str, *, where: str, index: int | None = None
    ) -> NoReturn:
        """Raise the alarm for heads ``a`` and ``b`` of the center's (``a.size <= b.size``)
        that are two histories, with the evidence written; the proof from ``a.size`` is
        built from the monitor's copy when ``b`` is its head, else from ``b``'s tiles."""
        # The proof from A's size in B's tree, from the monitor's copy when B is its head,
        # else from B's tiles (checked against B's root); for a size that is a power of two,
        # with B's root at that size in front (accord.record.evidence says why).
        if a.size == b.size:
            consistency: list[bytes] = []
        elif self.head is not None and b.note == self.head.note:
            log = self.state.log
            consistency = split_view_consistency(
                a.size, log.consistency_proof(a.size, b.size), root_at_old=log.root(a.size)
            )
        else:
            tiles = self._tiles_of(b)
            consistency = split_view_consistency(
                a.size, tiles.consistency_proof(a.size), root_at_old=tiles.root_at(a.size)
            )
        evidence = split_view_evidence(a.note, b.note, consistency).to_json()
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.state.write_evidence(f"{stamp}-{kind}.json", evidence)
        raise MonitorAlarm(
            kind,
            f"{kind}: the center signed two histories of {self.origin}: its head of size "
            f"{a.size} (root {_b64(a.root)}) and, {where}, one of size {b.size} (root "
            f"{_b64(b.root)}) whose tree has another root at size {a.size}; evidence: {path}",
            sizes=(a.size, b.size),
            index=index,
            evidence=str(path),
        )

    def _tiles_of(self, head: SignedHead) -> TiledLog:
        return TiledLog.open(self._sources.tile, size=head.size, root=head.root)

    def _grow(self, head: SignedHead, now: float) -> None:
        start = self._stream.size
        try:
            tiles = self._tiles_of(head)
        except (ProofError, FormatError) as error:
            raise MonitorAlarm(
                "rewritten",
                f"rewritten: the tiles served for the head of size {head.size} do not hash to "
                f"its signed root: {error}",
                sizes=(start, head.size),
            ) from None
        except Unavailable as error:
            self._stalled_or(error, now)
        try:
            tiles.check_consistency(old_size=start, old_root=self._stream.root())
        except ProofError:
            if self.head is not None:
                self._two_histories(self._latest(), head, "rewritten", where="later")
            raise MonitorAlarm(  # pragma: no cover - a copy of 0 entries extends every tree
                "rewritten", f"rewritten: the tree of size {head.size} does not extend ours"
            ) from None
        except Unavailable as error:
            self._stalled_or(error, now)

        # Each batch's leaf hashes from the checked tiles, until the stream has taken it.
        expected: dict[int, tuple[Sequence[bytes], list[bytes]]] = {}

        def append(at: int, leaves: Sequence[bytes], hashes: Sequence[bytes]) -> None:
            # The workers hashed every leaf they checked (RFC 9162: SHA-256(0x00 || entry));
            # each must be the leaf hash in the checked tiles.
            _, want = expected.pop(at)
            if list(hashes) != want:
                self._rewritten(at, leaves, want, head.size, start)
            self.state.append(leaves, hashes)
            if self.party is not None:
                self._unopened.update(_commitments_of(self.party, at, leaves))

        try:
            self._stream.extend(
                self._batches(tiles, start, head.size, expected),
                reread=self.state.leaves,
                taken=append,
            )
        except VerificationError as error:
            # An entry changed in transit or in the center's store fails its signature or
            # chain first: it is named as rewritten when it is not the entry the head commits to.
            for at, (leaves, want) in sorted(expected.items()):
                if error.index is None or at > error.index:
                    break
                self._rewritten(at, leaves[: error.index - at + 1], want, head.size, start)
            raise MonitorAlarm(
                "invalid_entry",
                f"invalid_entry: entry {error.index} under the head of size {head.size}: "
                f"{error.reason}",
                sizes=(start, head.size),
                index=error.index,
            ) from None
        except Unavailable as error:
            self._stalled_or(error, now)
        if self._stream.root() != head.root:  # pragma: no cover - the tiles checked every leaf
            raise MonitorAlarm("rewritten", "rewritten: the entries do not hash to the head")
        self._keep(head)

    @staticmethod
    def _rewritten(
        at: int, leaves: Sequence[bytes], want: Sequence[bytes], size: int, start: int
    ) -> None:
        """Raise ``rewritten`` naming the first of ``leaves`` (leaf ``at`` on) whose hash is not
        its leaf hash in the checked tiles, ``want``; return if there is none."""
        for i, (data, leaf) in enumerate(zip(leaves, want, strict=False)):
            # RFC 9162 §2.1.1: leaf hash SHA-256(0x00 || entry).
            if hashlib.sha256(b"\x00" + data).digest() != leaf:
                index = at + i
                raise MonitorAlarm(
                    "rewritten",
                    f"rewritten: entry {index} as served in {entries_path(index // TILE_WIDTH)}"
                    f" is not the entry the center's head of size {size} commits to",
                    sizes=(start, size),
                    index=index,
                )

    def _batches(
        self,
        tiles: TiledLog,
        start: int,
        end: int,
        expected: dict[int, tuple[Sequence[bytes], list[bytes]]],
    ) -> Iterator[list[bytes]]:
        """The entries ``start`` to ``end - 1`` in batches, their leaf hashes from the checked
        tiles kept in ``expected`` (by the batch's first index) for :meth:`_grow` to compare
        with the hashes of the entries as served."""
        batch: list[bytes] = []
        want: list[bytes] = []
        first = start
        at = start
        while at < end:
            n, offset = divmod(at, TILE_WIDTH)
            width = min(TILE_WIDTH, tiles.size - n * TILE_WIDTH)
            stop = min(end, n * TILE_WIDTH + width)
            path = entries_path(n, width)
            try:
                want += tiles.leaf_hashes(at, stop)
                bundle = parse_bundle(self._sources.tile(path), width=width)
            except (ProofError, FormatError) as error:
                raise MonitorAlarm(
                    "rewritten",
                    f"rewritten: entry {at}: {path} as served does not match the signed head "
                    f"of size {tiles.size}: {error}",
                    sizes=(start, tiles.size),
                    index=at,
                ) from None
            batch += bundle[offset : offset + stop - at]
            at = stop
            if len(batch) >= self._batch or at == end:
                expected[first] = (batch, want)
                yield batch
                batch, want, first = [], [], at

    # --- the party's own commitments ----------------------------------------------------

    def _open_own(self) -> None:
        """Check the openings the center serves for the party's own commitments against the
        commitments in the verified copy: ``commitment`` for one that does not open its
        entry's (the center recorded, or keeps, another content than the party declared).
        Each one that opens is kept in the state folder (:meth:`State.keep_openings`): a
        restored center gets it back from there."""
        if self.party is None or not self._unopened:
            return
        try:
            served = self._sources.openings()
        except Unavailable as error:
            self.notes.append(f"your party's openings: unreadable ({error})")
            return
        if served is None:
            self.notes.append(
                f"{len(self._unopened)} of your party's commitments not opened: this "
                "monitor's token reads no openings (an officer's of your party does)"
            )
            return
        sent = self._sent_messages()
        if sent:
            try:
                served = [*served, *self._sources.message_openings(sent)]
            except Unavailable as error:
                self.notes.append(f"your party's messages' openings: unreadable ({error})")
        kept: list[Opening] = []
        for opening in served:
            if opening.entry not in self._unopened:
                continue
            data = self.state.leaves(opening.entry, opening.entry + 1)[0]
            try:
                event = loads_canonical(open_envelope(data)[2])["event"]
                if event.get("commitment") != opening.commitment:
                    raise CommitmentError("the entry holds another commitment")
                open_commitment(event, salt=opening.salt, content=opening.content)
            except (RecordError, KeyError, TypeError) as error:
                raise MonitorAlarm(
                    "commitment",
                    f"commitment: entry {opening.entry}, a commitment of {self.party}'s: the "
                    f"opening the center serves for it does not open it: {error}",
                    sizes=(self._stream.size,),
                    index=opening.entry,
                ) from None
            self._unopened.discard(opening.entry)
            kept.append(opening)
        self.state.keep_openings(kept)
        if self._unopened:
            first = min(self._unopened)
            self.notes.append(
                f"{len(self._unopened)} of your party's commitments have no opening served "
                f"yet (the first: entry {first})"
            )

    def _sent_messages(self) -> list[str]:
        """The ids of the party's messages whose ``message.sent`` commitment in the copy is
        not opened yet (each message's opening is asked for by its id, read from the copy)."""
        ids = []
        for index in sorted(self._unopened):
            data = self.state.leaves(index, index + 1)[0]
            event = loads_canonical(open_envelope(data)[2])["event"]
            if event.get("kind") == "message.sent" and isinstance(event.get("id"), str):
                ids.append(event["id"])
        return ids

    # --- the witnesses ------------------------------------------------------------------

    def _compare_witnesses(self, now: float) -> None:
        for witness in self.witnesses:
            name = witness.key.name
            label = f"{witness.party}'s witness {name}" + (" (ours)" if witness.own else "")
            try:
                note = self._sources.witness(witness)
            except Unavailable as error:
                self.notes.append(f"{label}: unreachable ({error})")
                continue
            if note is None:
                self.notes.append(f"{label}: has cosigned no checkpoint yet")
                continue
            try:
                seen = verify_checkpoint(note, origin=self.origin, center=self.keys.center)
                cosigned = verify_cosignatures(note, witnesses=[witness.key])
            except RecordError as error:
                self.notes.append(f"{label}: serves a checkpoint that does not verify: {error}")
                continue
            if name not in cosigned:
                self.notes.append(f"{label}: serves a checkpoint it did not cosign")
                continue
            if self.head is None:
                continue
            mine = self.head.size
            if seen.size <= mine:
                self._ahead.pop(name, None)
                if self.state.log.root(seen.size) != seen.root:
                    self._two_histories(seen, self._latest(), "split_view", where=f"to {label}")
                continue
            since = self._ahead.setdefault(name, now)
            if now - since > self.stall_after:
                raise MonitorAlarm(
                    "stalled",
                    f"stalled: {label} cosigned the center's head of size {seen.size}, but for "
                    f"{now - since:.0f} s (over {self.stall_after:g} s) the center has served "
                    f"this monitor a head of size {mine} at most",
                    sizes=(mine, seen.size),
                )
            self.notes.append(f"{label}: cosigned size {seen.size}, ahead of ours ({mine})")


def adopted_witnesses(first: bytes, *, party: str | None = None) -> tuple[WitnessSource, ...]:
    """The parties' witnesses named by the agreement that entry 0 (``first``, verified)
    adopts (``agreement.adopted``: ``parties[].witness`` {name, vkey, url}); none when it
    adopts none. A witness whose vkey is not a cosignature key of its name is left out."""
    try:
        entry = loads_canonical(open_envelope(first)[2])
    except RecordError:
        return ()
    event = entry.get("event") if isinstance(entry, dict) else None
    if not isinstance(event, dict) or event.get("kind") != "agreement.adopted":
        return ()
    document = event.get("agreement")
    parties = document.get("parties") if isinstance(document, dict) else None
    out = []
    for member in parties if isinstance(parties, list) else ():
        ref = member.get("witness") if isinstance(member, dict) else None
        if not isinstance(ref, dict):
            continue
        try:
            key, sig_type = PublicKey.from_vkey(str(ref.get("vkey")))
        except (RecordError, ValueError):
            continue
        if sig_type != SIG_ED25519_COSIGNATURE or key.name != ref.get("name"):
            continue
        url = ref.get("url")
        name = str(member.get("id"))
        out.append(
            WitnessSource(name, key, own=name == party, url=url if isinstance(url, str) else None)
        )
    return tuple(sorted(out, key=lambda w: not w.own))


_COMMITMENT_MARK = b'"commitment":'


def _commitments_of(party: str, start: int, leaves: Sequence[bytes]) -> list[int]:
    """The entries among ``leaves`` (the first is entry ``start``) by ``party`` whose event
    holds a commitment (a hidden declaration's, or a change of one)."""
    out = []
    for i, leaf in enumerate(leaves, start):
        if _COMMITMENT_MARK not in leaf:  # most entries: no parsing at all
            continue
        entry = loads_canonical(open_envelope(leaf)[2])
        event = entry.get("event") if isinstance(entry, dict) else None
        if entry.get("author") == party and isinstance(event, dict) and "commitment" in event:
            out.append(i)
    return out


def alarm_json(alarm: MonitorAlarm, *, origin: str, at: float) -> dict[str, Any]:
    """What the webhook receives for an alarm: kind, message, sizes, entry, evidence."""
    return {
        "accord_alarm": 1,
        "kind": alarm.kind,
        "origin": origin,
        "at": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
        "message": str(alarm),
        "sizes": list(alarm.sizes),
        "index": alarm.index,
        "evidence": alarm.evidence,
        "evidence_sha256": _digest(alarm.evidence),
    }


def _digest(path: str | None) -> str | None:
    if path is None:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
