"""A rooted log: the agreement its first entry adopts, and every party act in it checked
against the keys that party's root certified (issue 17; DECISIONS 6–10).

A center whose agreement names the parties' trust roots holds no party's key, so its log
proves what a party did only through the acts inside its entries (``"v": 2``,
:mod:`accord.record.entries`). Such a log reads:

- entry 0: the center's own entry (version 1) ``{"kind": "agreement.adopted",
  "agreement": <the agreement document>, "digest": agreement_digest(document)}``; the
  parties', notifiers' and monitors' ``root_key`` in that document are the roots;
- ``agreement.signed``, ``key.registered``, ``key.revoked``: the **registry entries**, each a
  party's act signed by the party's root (or a key it certified to certify), shown with its
  opening (the salt and body its seal opens to: who may sign is every party's to check),
  whose event says what that body asks; folded in order into a
  :class:`~accord.record.registry.KeyRegistry`;
- every other party entry: an act signed by a key its party registered for the acting user
  to ``act`` — or to ``device-reports``, for the requests such a key signs
  (:data:`~accord.record.registry.DEVICE_REPORT_REQUESTS`; an act of any other request by
  it is named) —, valid at that entry, once the agreement is in force; or ``{"of": k}``, the
  same act as entry *k*, the latest earlier entry of the same author that holds a full act;
- the center's own entries (conflicts, alerts, phases, users): version 1, signed by the
  center. A version 1 entry by a party is the center signing for a party: **forged**.

Any other act's body stays sealed (a party's declaration may be for the center's eyes only);
where an entry shows an act's opening, it must open the act's seal.

The work is split as the verifier splits it (:mod:`accord.record.verify`). A worker that
checks a chunk of leaves checks each act where it stands — its shape, its key beside it, its
member and origin, its signature (the key is in the entry, so the worker needs no registry),
the opening shown — and sends back a compact :class:`ChunkActs`: the few registry acts, one
interval per (member, user, key) of the ordinary acts (first and last entry and count: the
entries a key may sign form an interval, so both ends valid means every one between is), the
nonces as 64-bit hashes, the ``"of"`` references and the first ordinary act. This process
folds them in log order (:class:`ActFold`): the registry first, then each interval against
the registry as the whole log leaves it (validity is by entry index, so the final state
answers for every entry), the first act against the entry where the agreement came into
force, and the nonces sorted to find one used twice. Only a fault sends it back to the
leaves, to name the exact entry.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import rfc8785

from accord.errors import ActError, VerificationError
from accord.jsontext import loads as strict_loads
from accord.jsontext import shown
from accord.record.acts import SignedAct, seal_of, signed_act_from_json
from accord.record.bindings import fits_any
from accord.record.entries import Entry, open_envelope
from accord.record.errors import FormatError, RecordError, SignatureError
from accord.record.keys import SIG_ED25519, KeyRing, Member, PublicKey
from accord.record.registry import (
    ACT,
    DEVICE_REPORTS,
    KeyRegistry,
    agreement_digest,
    device_report_request,
    registration_from_body,
    revocation_from_body,
    signature_digest_from_body,
)

__all__ = [
    "ADOPTED",
    "REGISTRY_ACTIONS",
    "ActFold",
    "Adopted",
    "ChunkActs",
    "adopted",
    "check_pinned",
    "forged_entry",
    "scan_chunk",
]

ADOPTED: Final = "agreement.adopted"
SIGNED: Final = "agreement.signed"
REGISTERED: Final = "key.registered"
REVOKED: Final = "key.revoked"

REGISTRY_ACTIONS: Final = {
    SIGNED: "POST /v1/agreement/signatures",
    REGISTERED: "POST /v1/keys/registrations",
    REVOKED: "POST /v1/keys/revocations",
}
"""The request each registry entry's act must ask (its path, and any query as the client sent
it): the center may not read an act that asked one thing as another."""

_ADOPTED_AGAIN = (
    "refused: an agreement.adopted entry: the agreement is adopted once, by the log's entry 0"
)
_GROUPS = (("parties", "party"), ("notifiers", "notifier"), ("monitors", "monitor"))
_KIND_MARKS = {kind: b'"kind":' + rfc8785.dumps(kind) for kind in (ADOPTED, *REGISTRY_ACTIONS)}


def _key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).digest()[:8].hex()


def _nonce_hash(nonce: str) -> int:
    return int.from_bytes(hashlib.blake2b(nonce.encode(), digest_size=8).digest(), "little")


# --- entry 0 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adopted:
    """The agreement a rooted log's entry 0 adopts: the document, its digest, the roots."""

    document: dict[str, Any] = field(hash=False)
    digest: str
    roots: dict[str, PublicKey] = field(hash=False)
    roles: dict[str, str] = field(hash=False)
    parties: frozenset[str]

    def ring(self, center: PublicKey) -> KeyRing:
        """The key ring a rooted log's entries are read with: the center's key, and each
        member by its root (only to know the member; its entries carry acts)."""
        return KeyRing(center, [Member(key, self.roles[name]) for name, key in self.roots.items()])


def adopted(event: Mapping[str, Any]) -> Adopted:
    """The agreement an ``agreement.adopted`` event adopts; ``ValueError`` saying why it
    cannot be taken (its digest, a party without a root where others name theirs, a root
    that is no Ed25519 verifier key of its member's name, one root for two members). An
    agreement that names no root at all has empty ``roots``: its log is a legacy log."""
    if set(event) != {"kind", "agreement", "digest"}:
        raise ValueError('the event holds exactly "kind", "agreement" and "digest"')
    document = event["agreement"]
    if not isinstance(document, dict):
        raise ValueError("the agreement is not a JSON object")
    try:
        digest = agreement_digest(document)
    except (rfc8785.CanonicalizationError, RecursionError, TypeError, ValueError) as error:
        raise ValueError(f"the agreement has no RFC 8785 form: {error}") from None
    if event["digest"] != digest:
        raise ValueError(
            f"its digest {shown(repr(event['digest']))} is not the agreement's ({digest})"
        )
    roots: dict[str, PublicKey] = {}
    roles: dict[str, str] = {}
    parties: set[str] = set()
    by_raw: dict[bytes, str] = {}
    unrooted: list[str] = []
    for group, role in _GROUPS:
        members = document.get(group, [])
        if not isinstance(members, list):
            raise ValueError(f"the agreement's {group} is not a list")
        for position, member in enumerate(members):
            name = member.get("id") if isinstance(member, dict) else None
            if not isinstance(name, str):
                raise ValueError(f"{group}[{position}] has no id")
            if role == "party":
                parties.add(name)
            vkey = member.get("root_key")
            if vkey is None:
                if role == "party":
                    unrooted.append(name)
                continue  # a notifier or monitor without a root acts in nothing
            try:
                key, sig_type = PublicKey.from_vkey(vkey) if isinstance(vkey, str) else (None, 0)
            except (FormatError, ValueError) as error:
                raise ValueError(f"{name}'s root key: {error}") from None
            if key is None or sig_type != SIG_ED25519 or key.name != name:
                raise ValueError(f"{name}'s root key is not an Ed25519 verifier key of {name!r}")
            if name in roots:
                raise ValueError(f"{name!r} is named twice")
            if key.raw in by_raw:
                raise ValueError(f"{name} has the same root key as {by_raw[key.raw]}")
            roots[name], roles[name], by_raw[key.raw] = key, role, name
    if unrooted and roots:
        raise ValueError(f"party {unrooted[0]!r} names no root key, where others name theirs")
    return Adopted(dict(document), digest, roots, roles, frozenset(parties))


def check_pinned(
    found: Adopted,
    *,
    agreement: Mapping[str, Any] | None,
    roots: Mapping[str, PublicKey] | None,
) -> None:
    """Refuse entry 0 unless it adopts the agreement (``agreement``: the party's own copy of
    the document) and the roots (member → key) the caller holds: ``VerificationError``."""
    if agreement is not None:
        mine = agreement_digest(agreement)
        if mine != found.digest:
            differ = [
                name
                for name in sorted(set(agreement) | set(found.document))
                if agreement.get(name) != found.document.get(name)
            ]
            raise VerificationError(
                0,
                f"entry 0 adopts another agreement than yours: digest {found.digest} in the "
                f"log, {mine} yours" + (f" (they differ in {', '.join(differ)})" if differ else ""),
            )
    if roots is not None:
        for name in sorted(set(roots) | set(found.roots)):
            mine_key, theirs = roots.get(name), found.roots.get(name)
            if theirs is None:
                raise VerificationError(0, f"the log's agreement names no root for {name}")
            if mine_key is None:
                raise VerificationError(
                    0, f"the log's agreement names a root for {name}, yours does not"
                )
            if mine_key.raw != theirs.raw:
                raise VerificationError(
                    0,
                    f"the log's agreement names another root key for {name} ({theirs.key_id}) "
                    f"than yours ({mine_key.key_id})",
                )


# --- in a worker: one chunk -----------------------------------------------------------------


class RegistryAct(NamedTuple):
    """A registry entry's act, checked for its signature and its opening; its meaning is
    for the fold."""

    at: int
    kind: str
    author: str
    event: dict[str, Any]
    signed: SignedAct
    raw: bytes
    body: dict[str, Any]
    """The body the act's seal opens to (the entry shows it: who may sign is public)."""


class ChunkActs(NamedTuple):
    """What a chunk's acts leave for the fold (see the module docstring)."""

    registry: list[RegistryAct]
    claims: dict[tuple[str, str, bytes, bool], tuple[int, int, int]]
    """(member, user, raw key, whether the request is one a device-reports key may sign) →
    (first entry, last entry, count) of its ordinary acts."""
    first_act: tuple[int, str] | None
    """The first ordinary act (entry, author)."""
    nonces: npt.NDArray[np.uint64]
    nonce_at: npt.NDArray[np.int64]
    refs: list[tuple[int, str, int, int | None]]
    """Each ``"of"``: (entry, author, the entry it names, the author's latest full act
    before it in the chunk — None: in an earlier chunk)."""
    last_full: dict[str, int]
    """Each author's last entry in the chunk with a full act."""


def forged_entry(data: bytes, *, center: str, roots: Mapping[str, PublicKey]) -> str | None:
    """Why a leaf that did not verify is forged, if it is a version 1 entry by a party: in a
    rooted log only the center signs version 1 entries. None: not such an entry."""
    try:
        _, _, entry = open_envelope(data)
        obj = strict_loads(entry)
    except (RecordError, ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    author, version = obj.get("author"), obj.get("v")
    if type(version) is not int or version != 1 or not isinstance(author, str):
        return None
    if author == center:
        return None
    return _forged_v1(author, obj.get("key_id"), roots)


def _forged_v1(author: str, key_id: object, roots: Mapping[str, PublicKey]) -> str:
    root = roots.get(author)
    how = (
        f"signed with {author}'s root key, which signs the agreement and certifies keys, "
        "never an entry"
        if root is not None and key_id == root.key_id
        else f"signed only by keys the center holds (key id {shown(str(key_id))})"
    )
    return (
        f"forged: an entry by {author!r} of version 1, {how}, with no act of {author}'s "
        "inside: the agreement names the parties' roots, so a party's entry carries the act "
        "its user signed, and the center cannot sign for a party"
    )


def scan_chunk(
    start: int,
    leaves: Sequence[bytes],
    rows: Sequence[tuple[int, str, str, int]],
    acts: Sequence[tuple[int, Entry]],
    *,
    origin: str,
    roots: Mapping[str, PublicKey] | None,
    causes: Mapping[str, Sequence[str]] | None = None,
) -> tuple[ChunkActs | None, tuple[int, str] | None]:
    """Check the acts of a chunk of leaves whose first ``len(rows)`` verified as entries
    (``rows`` as :meth:`~accord.record.entries.LeafReader.read_all` gives them, ``acts`` its
    version 2 entries); the chunk's summary, and its first fault (entry, reason).

    ``roots`` None: a legacy log, whose entries carry no act (DECISIONS 9). ``causes``: kind
    → the requests that may cause an entry of that kind (:mod:`accord.record.bindings`), to
    check that the center's reading of each act fits the request the act signed.
    """
    count = len(rows)
    faults: list[tuple[int, str]] = []
    blob = b"".join(leaves[:count])
    act_offsets = {offset for offset, _ in acts}
    if roots is None:
        if acts:
            faults.append(
                (
                    start + acts[0][0],
                    "an act entry (version 2) in a log whose entry 0 adopts no agreement: "
                    "there are no roots to check its key against",
                )
            )
        if _KIND_MARKS[ADOPTED] in blob:
            faults.extend(_kinds_out_of_place(start, leaves, count, act_offsets, (ADOPTED,)))
        return None, min(faults) if faults else None

    authors = {row[2] for row in rows}
    if authors - {origin}:  # a version 1 entry by a party
        for offset, (_, _, author, _) in enumerate(rows):
            if author != origin and offset not in act_offsets:
                key_id = _v1_key_id(leaves[offset])
                faults.append((start + offset, _forged_v1(author, key_id, roots)))
                break
    marked = tuple(kind for kind, mark in _KIND_MARKS.items() if mark in blob)
    if marked:
        faults.extend(_kinds_out_of_place(start, leaves, count, act_offsets, marked))

    registry: list[RegistryAct] = []
    claims: dict[tuple[str, str, bytes, bool], tuple[int, int, int]] = {}
    first_act: tuple[int, str] | None = None
    nonces: list[int] = []
    nonce_at: list[int] = []
    refs: list[tuple[int, str, int, int | None]] = []
    last_full: dict[str, int] = {}
    keys: dict[tuple[str, bytes], PublicKey] = {}
    for offset, entry in acts:
        index = start + offset
        fault, signed, raw, body = _check_act(index, entry, origin, keys, causes)
        if fault is not None:
            faults.append((index, fault))
            break
        author, kind = entry.author, entry.event.get("kind")
        if signed is None:  # {"of": k}
            assert entry.act is not None
            refs.append((index, author, entry.act["of"], last_full.get(author)))
            continue
        nonces.append(_nonce_hash(signed.act.nonce))
        nonce_at.append(index)
        last_full[author] = index
        if kind in REGISTRY_ACTIONS:
            if body is None:
                faults.append(
                    (
                        index,
                        f"refused: the {kind} entry does not show what its act asks (the "
                        "opening of its seal: salt and body), which every registry entry "
                        "shows, since who may sign is every party's to check",
                    )
                )
                break
            registry.append(RegistryAct(index, str(kind), author, entry.event, signed, raw, body))
            continue
        reportable = device_report_request(signed.act.action) is not None
        group = (author, signed.act.user, raw, reportable)
        seen = claims.get(group)
        claims[group] = (index, index, 1) if seen is None else (seen[0], index, seen[2] + 1)
        if first_act is None:
            first_act = (index, author)
    summary = ChunkActs(
        registry,
        claims,
        first_act,
        np.array(nonces, dtype=np.uint64),
        np.array(nonce_at, dtype=np.int64),
        refs,
        last_full,
    )
    return summary, min(faults) if faults else None


def _v1_key_id(leaf: bytes) -> object:
    try:
        obj = strict_loads(open_envelope(leaf)[2])
    except (RecordError, ValueError, RecursionError):
        return None
    return obj.get("key_id") if isinstance(obj, dict) else None


def _kinds_out_of_place(
    start: int,
    leaves: Sequence[bytes],
    count: int,
    act_offsets: set[int],
    kinds: Sequence[str],
) -> list[tuple[int, str]]:
    """The first center's entry (no act) of one of ``kinds`` other than an adoption at entry
    0, and the first act entry that says it adopts an agreement."""
    marks = [_KIND_MARKS[kind] for kind in kinds]
    for offset in range(count):
        leaf = leaves[offset]
        if not any(mark in leaf for mark in marks):
            continue
        index = start + offset
        try:
            event = strict_loads(open_envelope(leaf)[2])["event"]
        except (RecordError, ValueError, RecursionError, KeyError, TypeError):
            continue
        kind = event.get("kind") if isinstance(event, dict) else None
        if kind == ADOPTED and index == 0:
            continue
        if kind == ADOPTED:
            return [
                (
                    index,
                    _ADOPTED_AGAIN,
                )
            ]
        if kind in kinds and offset not in act_offsets:
            return [
                (
                    index,
                    f"forged: the center's own entry of kind {kind}: only a party's root, or "
                    "a key it certified, signs that — as an act inside the entry",
                )
            ]
    return []


def _check_act(
    index: int,
    entry: Entry,
    origin: str,
    keys: dict[tuple[str, bytes], PublicKey],
    causes: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str | None, SignedAct | None, bytes, dict[str, Any] | None]:
    """(fault, the signed act — None for a reference —, the raw key, the body its seal opens
    to if the entry shows the opening) of one act entry."""
    act = entry.act
    assert act is not None
    author, kind = entry.author, entry.event.get("kind")
    if kind == ADOPTED:
        return _ADOPTED_AGAIN, None, b"", None
    if "of" in act:
        named = act["of"]
        if kind in REGISTRY_ACTIONS:
            reason = f"refused: a {kind} entry carries its act, not a reference to another entry's"
            return reason, None, b"", None
        if named >= index:
            return f"act.of names entry {named}, not an earlier entry", None, b"", None
        return None, None, b"", None
    raw = base64.b64decode(act["key"])  # 32 bytes in canonical base64: verify_entry checked
    key = keys.get((author, raw))
    if key is None:
        try:
            key = keys[(author, raw)] = PublicKey(author, raw)
        except FormatError:
            return "act.key is not an Ed25519 public key", None, raw, None
    try:
        signed = signed_act_from_json(act["signed"])
    except ActError as error:
        return f"the act inside is no act: {error}", None, raw, None
    made = signed.act
    if made.key != key.key_id:
        return (
            f"forged: the key beside the act is key {key.key_id}, but the act was made for key "
            f"{made.key}",
            None,
            raw,
            None,
        )
    if made.member != author:
        reason = f"forged: the entry is by {author!r}, but its act is {made.member!r}'s"
        return reason, None, raw, None
    if made.origin != origin:
        return (
            f"the act was made for the log {made.origin!r}, not this one ({origin!r}): an act "
            "made for another log is refused",
            None,
            raw,
            None,
        )
    try:
        key.verify(signed.signature, made.signed_bytes())
    except (SignatureError, ActError):
        return (
            f"forged: the act's signature does not verify with its key {key.key_id} over the "
            f"act's canonical bytes: it is not what {author}'s user {made.user!r} signed",
            None,
            raw,
            None,
        )
    if causes is not None:
        templates = causes.get(str(kind))
        if templates is None or not fits_any(made.action, templates, entry.event):
            return (
                f"forged: the center's reading, a {kind!r} entry, does not fit the request "
                f"{author}'s user {made.user!r} signed ({made.action})",
                None,
                raw,
                None,
            )
    opening = act.get("opening")
    if opening is None:
        return None, signed, raw, None
    try:
        opens = seal_of(opening["body"], salt=opening["salt"]) == made.seal
    except ActError as error:
        return f"act.opening opens no seal: {error}", None, raw, None
    if not opens:
        return (
            "forged: the opening shown beside the act does not open its seal: the body shown "
            f"is not what {author}'s user {made.user!r} signed",
            None,
            raw,
            None,
        )
    return None, signed, raw, dict(opening["body"])


# --- in this process: the whole log ---------------------------------------------------------


@dataclass
class _Counted:
    registry_entries: int = 0
    acts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    device_reports: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(member, key id, user) → the acts that device-reports key signed."""


class ActFold:
    """The chunks' :class:`ChunkActs`, taken in log order, and the checks that need the whole
    log (see the module docstring); :meth:`finish` names the first fault."""

    def __init__(self, found: Adopted) -> None:
        self.found = found
        self.registry = KeyRegistry(found.roots, parties=found.parties)
        self._root_ids = {key.key_id: name for name, key in found.roots.items()}
        self._registry_acts: list[RegistryAct] = []
        self._claims: list[
            tuple[int, int, dict[tuple[str, str, bytes, bool], tuple[int, int, int]]]
        ] = []
        self._first_act: tuple[int, str] | None = None
        self._nonces: list[npt.NDArray[np.uint64]] = []
        self._nonce_at: list[npt.NDArray[np.int64]] = []
        self._last_full: dict[str, int] = {}
        self._ref_fault: tuple[int, str] | None = None
        self.counted = _Counted()

    def add(self, start: int, end: int, chunk: ChunkActs) -> None:
        """Take the summary of leaves ``start`` to ``end - 1``, the chunk after the last."""
        if self._ref_fault is None:
            for index, author, named, expected in chunk.refs:
                if expected is None:
                    expected = self._last_full.get(author)
                if named != expected:
                    self._ref_fault = (
                        index,
                        f"act.of names entry {named}, but "
                        + (
                            f"{author}'s latest earlier entry holding a full act is {expected}"
                            if expected is not None
                            else f"no earlier entry of {author}'s holds a full act"
                        )
                        + ": an entry caused by an act names that act's entry",
                    )
                    break
        self._last_full.update(chunk.last_full)
        self._registry_acts.extend(chunk.registry)
        if chunk.claims:
            self._claims.append((start, end, chunk.claims))
        if self._first_act is None:
            self._first_act = chunk.first_act
        if len(chunk.nonces):
            self._nonces.append(chunk.nonces)
            self._nonce_at.append(chunk.nonce_at)

    def finish(self, reread: Callable[[int, int], Sequence[bytes]]) -> tuple[int, str] | None:
        """The first fault (entry, reason) of the whole log's acts, None if there is none;
        ``reread(start, end)`` reads leaves again, to name the exact entry of a fault.

        It may be called again after more chunks are added (a monitor folds each new part of
        the log as it comes): each call folds the registry afresh from entry 0, so its answer
        is that of the log so far, the same as a fold of that whole prefix."""
        self.registry = KeyRegistry(self.found.roots, parties=self.found.parties)
        self.counted = _Counted()
        faults: list[tuple[int, str]] = []
        if self._ref_fault is not None:
            faults.append(self._ref_fault)
        for act in self._registry_acts:
            reason = self._fold(act)
            if reason is not None:
                faults.append((act.at, reason))
                break  # what the registry holds after a refused entry means nothing
            self.counted.registry_entries += 1
        for start, end, claims in self._claims:
            for (author, user, raw, reportable), (first, last, count) in claims.items():
                why = partial(self._why_not, author, user, raw, reportable=reportable)
                reason = why(first)
                if reason is None and last != first and why(last) is not None:
                    first = self._first_invalid(
                        reread(start, end), start, author, user, raw, reportable
                    )
                    reason = why(first)
                if reason is not None:
                    faults.append(
                        (
                            first,
                            f"refused: an act of {author}'s user {user!r} signed with a key "
                            f"that may not sign it here: {reason}",
                        )
                    )
                    continue
                group = (author, _key_id(raw), user)
                self.counted.acts[group] = self.counted.acts.get(group, 0) + count
                held = self.registry.get(group[1])
                if held is not None and ACT not in held.purposes:
                    reports = self.counted.device_reports
                    reports[group] = reports.get(group, 0) + count
        if self._first_act is not None:
            index, author = self._first_act
            if not self.registry.in_force(index):
                faults.append((index, self._before_in_force(author)))
        replay = self._replay(reread)
        if replay is not None:
            faults.append(replay)
        return min(faults) if faults else None

    # --- the registry -------------------------------------------------------------------

    def _fold(self, act: RegistryAct) -> str | None:
        made, author, index = act.signed.act, act.author, act.at
        asked = REGISTRY_ACTIONS[act.kind]
        if made.action != asked and not made.action.startswith(asked + "?"):  # a query: as sent
            return (
                f"refused: the act in this {act.kind} entry asks {shown(made.action)!r}, not "
                f"{asked!r}: the center read an act as another"
            )
        try:
            if act.kind == SIGNED:
                digest = signature_digest_from_body(act.body)
                wrong = _differs(act.event, {"kind": SIGNED, "member": author, "digest": digest})
                if wrong is not None:
                    return wrong
                if digest != self.found.digest:
                    return (
                        f"refused: {author}'s root signed the agreement of digest {digest}, not "
                        f"the one entry 0 adopts ({self.found.digest})"
                    )
                root = self.registry.root(member=author, key_id=made.key)
                if root.raw != act.raw:
                    return _same_id(made.key, author)
                self.registry.sign_agreement(member=author, key_id=made.key, index=index)
            elif act.kind == REGISTERED:
                registration = registration_from_body(act.body)
                want: dict[str, Any] = {
                    "kind": REGISTERED,
                    "member": author,
                    "user": registration.user,
                    "key": registration.key_id,
                    "public_key": base64.b64encode(registration.public_key).decode("ascii"),
                    "purposes": sorted(registration.purposes),
                }
                if registration.replaces is not None:
                    want["replaces"] = registration.replaces
                wrong = _differs(act.event, want)
                if wrong is not None:
                    return wrong
                signer = self.registry.certifier(
                    member=author, user=made.user, key_id=made.key, index=index
                )
                if signer.raw != act.raw:
                    return _same_id(made.key, author)
                self.registry.register(
                    registration, member=author, key_id=made.key, user=made.user, index=index
                )
            else:
                revocation = revocation_from_body(act.body)
                wrong = _differs(
                    act.event,
                    {
                        "kind": REVOKED,
                        "member": author,
                        "key": revocation.key,
                        "reason": revocation.reason,
                    },
                )
                if wrong is not None:
                    return wrong
                signer = self.registry.certifier(
                    member=author, user=made.user, key_id=made.key, index=index
                )
                if signer.raw != act.raw:
                    return _same_id(made.key, author)
                self.registry.revoke(
                    revocation, member=author, key_id=made.key, user=made.user, index=index
                )
        except ActError as error:
            return f"refused: {author}'s {act.kind} act: {error}"
        return None

    def _why_not(
        self, author: str, user: str, raw: bytes, index: int, *, reportable: bool
    ) -> str | None:
        """Why ``raw`` may not sign ``author``'s user ``user``'s act at entry ``index`` (by
        the registry as the whole log leaves it: validity is by entry index); None: it may.
        ``reportable``: the act's request is one a device-reports key may sign."""
        key_id = _key_id(raw)
        if key_id in self._root_ids:
            return (
                f"key {key_id} is {self._root_ids[key_id]}'s root key, which signs the "
                "agreement and certifies keys, never a user's act"
            )
        found = self.registry.get(key_id)
        if found is None or found.member != author:
            return f"key {key_id} was never registered for {author}"
        if found.key.raw != raw:
            return _same_id(key_id, author)
        if found.registered_at >= index:
            return f"key {key_id} is registered for {author} only at entry {found.registered_at}"
        if found.user != user:
            return f"key {key_id} is {author}'s user {found.user!r}'s, not {user!r}'s"
        if found.ended_at is not None and found.ended_at <= index:
            return (
                f"key {key_id} of {author}'s user {user!r} was {found.ended_how} at entry "
                f"{found.ended_at}"
            )
        if ACT in found.purposes or (DEVICE_REPORTS in found.purposes and reportable):
            return None
        if DEVICE_REPORTS in found.purposes:
            return (
                f"key {key_id} is certified for {DEVICE_REPORTS} only: it signs its party's "
                "devices' position reports, tracks and drafts, not this act's request"
            )
        only = ", ".join(sorted(found.purposes))
        return f"key {key_id} is not certified to act (only to {only})"

    def _first_invalid(
        self,
        leaves: Sequence[bytes],
        start: int,
        author: str,
        user: str,
        raw: bytes,
        reportable: bool,
    ) -> int:
        """The first entry of ``leaves`` holding an act of ``author``'s user ``user`` with
        key ``raw`` (of a request a device-reports key may sign or not, by ``reportable``)
        that this key may not sign."""
        text = base64.b64encode(raw).decode("ascii")
        for offset, leaf in enumerate(leaves):
            obj = strict_loads(open_envelope(leaf)[2])
            act = obj.get("act")
            if obj.get("author") != author or not act or act.get("key") != text:
                continue
            if act["signed"].get("user") != user:
                continue
            action = act["signed"].get("action")
            if (isinstance(action, str) and device_report_request(action) is not None) != (
                reportable
            ):
                continue
            if self._why_not(author, user, raw, start + offset, reportable=reportable) is not None:
                return start + offset
        raise AssertionError("an interval with an invalid end holds no invalid entry")

    def _before_in_force(self, author: str) -> str:
        at = self.registry.in_force_at
        if at is not None:
            state = f"it is in force from entry {at} on"
        else:
            waiting = sorted(self.found.parties - set(self.registry.signed))
            state = f"not every party's root has signed it (not yet: {', '.join(waiting)})"
        return (
            f"refused: an act of {author}'s before the agreement is in force ({state}): until "
            "then a party only signs the agreement and registers or revokes keys"
        )

    def _replay(self, reread: Callable[[int, int], Sequence[bytes]]) -> tuple[int, str] | None:
        """The first entry whose act's nonce an earlier entry's act used (sorted hashes find
        the candidates; the leaves themselves confirm them)."""
        if not self._nonces:
            return None
        hashes = np.concatenate(self._nonces)
        at = np.concatenate(self._nonce_at)
        order = np.argsort(hashes, kind="stable")  # equal hashes stay in log order
        ordered = hashes[order]
        same = np.flatnonzero(ordered[1:] == ordered[:-1])
        if not same.size:
            return None
        candidates = sorted(
            {int(at[order[k]]) for k in same} | {int(at[order[k + 1]]) for k in same}
        )
        first_seen: dict[str, int] = {}
        found: tuple[int, str] | None = None
        for index in candidates:
            leaf = reread(index, index + 1)[0]
            nonce = strict_loads(open_envelope(leaf)[2])["act"]["signed"]["nonce"]
            earlier = first_seen.setdefault(nonce, index)
            if earlier != index:
                found = (
                    index,
                    f"replayed: this entry's act (nonce {nonce}) was taken in already at entry "
                    f"{earlier}; an act is taken in once, and a second entry it causes names "
                    'the first with {"of": …}',
                )
                break
        return found


def _same_id(key_id: str, author: str) -> str:
    return (
        f"forged: the key beside the act has key id {key_id}, but it is not the key of that id "
        f"the record holds for {author}"
    )


def _differs(event: Mapping[str, Any], want: Mapping[str, Any]) -> str | None:
    """Where ``event`` does not say what the act asks (``want``), or None."""
    said = dict(event)
    purposes = said.get("purposes")
    if isinstance(purposes, list) and all(isinstance(p, str) for p in purposes):
        said["purposes"] = sorted(purposes)
    wrong = [
        f"{name} {shown(repr(said.get(name, '(none)')))} where the act asks "
        f"{shown(repr(want.get(name, '(none)')))}"
        for name in sorted(set(said) | set(want))
        if said.get(name) != want.get(name) or (name in said) != (name in want)
    ]
    if not wrong:
        return None
    return (
        f"refused: the {want['kind']} entry does not say what its act asks: the event says "
        + "; ".join(wrong)
    )
