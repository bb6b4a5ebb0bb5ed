"""The center's signed tree heads, as served: signed when the log has grown, and co-signed
by parties who checked them.

The center signs a head lazily — when someone asks for the latest one and the log has grown
since the last — so that a burst of writes costs one signature, not one each. Parties sign
heads with their own keys on their own machines (a
:class:`~accord.record.note.Witness`); the service checks the co-signature line a party
sends against that member's key in the key ring and adds it to the stored note, keeping the
center's signature and every earlier co-signature as they are; each party's witness's line,
which the center asks for itself (:mod:`accord.center.record.witnesses`), joins the head the
same way (:func:`add_cosignature_line`).
"""

from __future__ import annotations

from accord.center.db.models import RecordHead
from accord.center.runtime import Center, Unit
from accord.errors import IllegalTransition, InputError, Issue
from accord.record.errors import FormatError, SignatureError
from accord.record.keys import SIG_ED25519_COSIGNATURE, KeyRing, PublicKey
from accord.record.note import (
    Note,
    SignedHead,
    parse_note,
    verify_checkpoint,
    verify_cosignatures,
)

__all__ = ["add_cosignature_line", "cosign", "cosigners", "latest_head"]


def latest_head(center: Center) -> SignedHead:
    """The latest head signed by the center, covering the whole log (signed now if the log
    has grown since the last one)."""
    with center.reading() as session:
        log = center.log(session)
        stored = log.latest_head()
        current = stored is not None and stored.size == log.size
    if not current:
        with center.writing() as unit:
            log = unit.ledger.log
            stored = log.latest_head()
            if stored is None or stored.size < log.size:
                return unit.ledger.sign_head(timestamp=int(center.now().timestamp()))
    assert stored is not None
    return verify_checkpoint(stored.note, origin=center.origin, center=center.ring.center)


def cosigners(ring: KeyRing, note_text: str) -> list[str]:
    """The members whose co-signatures on ``note_text`` verify."""
    witnesses = [member.key for member in ring.members]
    return sorted(verify_cosignatures(note_text, witnesses=witnesses))


def _bad_note(message: str) -> InputError:
    return InputError("request", [Issue("note", message)])


def cosign(unit: Unit, center: Center, member: str, note_text: str) -> SignedHead:
    """Add ``member``'s co-signature from ``note_text`` (the center's head with the
    member's line) to the stored head; the head with every co-signature so far.

    Raises :class:`~accord.errors.InputError` (field ``note``) for a note that is no head
    signed by the center, or carries no valid co-signature by ``member``, and
    :class:`~accord.errors.IllegalTransition` for a head the center never stored.
    Co-signing a head twice keeps the first co-signature.
    """
    try:
        return add_cosignature_line(unit, center, center.ring.member(member), note_text)
    except (FormatError, SignatureError) as error:
        raise _bad_note(str(error)) from None


def add_cosignature_line(unit: Unit, center: Center, key: PublicKey, note_text: str) -> SignedHead:
    """The one way a cosignature joins a stored head — a member's (:func:`cosign`) or a
    party's witness's (:mod:`accord.center.record.witnesses`): ``note_text`` is the center's
    head with ``key``'s tlog-cosignature line (type 0x04) among its lines; that line is
    verified against ``key`` and added to the stored note, which keeps the center's
    signatures and every earlier cosignature as they are. Returns the head as stored.

    Raises ``FormatError`` or ``SignatureError`` for a note that is no head signed by the
    center or carries no valid line of ``key`` (c2sp.org/signed-note: a known key's line
    that fails rejects the note), :class:`~accord.errors.IllegalTransition` for a head the
    center never stored. A key that already cosigned the stored head keeps its first line.
    """
    ring = center.ring
    head = verify_checkpoint(note_text, origin=center.origin, center=ring.center)
    if key.name not in verify_cosignatures(note_text, witnesses=[key]):
        raise SignatureError(f"the note carries no co-signature by {key.name!r}")
    stored = unit.session.get(RecordHead, head.size)
    if stored is None or bytes(stored.root) != head.root:
        raise IllegalTransition(f"the center stored no head of size {head.size} with this root")
    kept = parse_note(stored.note)
    key_id = key.note_key_id(SIG_ED25519_COSIGNATURE)
    if any(s.name == key.name and s.key_id == key_id for s in kept.signatures):
        return verify_checkpoint(stored.note, origin=center.origin, center=ring.center)
    sent = parse_note(note_text)
    if sent.body != kept.body:  # pragma: no cover - same checkpoint, same strict text
        raise FormatError("the note's checkpoint text differs from the stored head's")
    mine = tuple(s for s in sent.signatures if s.name == key.name and s.key_id == key_id)
    merged = Note(kept.body, (*kept.signatures, *mine)).text()
    unit.ledger.log.add_head(head.size, head.root, int(stored.timestamp), merged)
    unit.session.expire(stored)
    return verify_checkpoint(merged, origin=center.origin, center=ring.center)
