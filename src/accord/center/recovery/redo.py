"""Redo: the center's tables brought up to record entries they never saw written.

A restore that recovers a missing tail (:mod:`accord.center.recovery.tail`) appends entries
the service wrote after the backup was taken: the record is whole again, but the tables the
service reads (declarations, operations, messages, alerts, users, …) are still as the
backup had them. Redo applies each appended entry's **event** to those tables, in record
order, as the unit that wrote the entry had: the same rows, the same times (an entry's
``ts`` is the instant its unit used for its rows), the same ids (each event names its
object). It never runs a request again: ids and salts were random and a member's body is
sealed, so a request run twice would write something else.

Each feature that records says how to redo its kinds, in its own ``redo`` module
(:data:`MODULES`), as a mapping ``REDO`` from kind name to a :data:`Redo` function given
the :class:`Redoing` context and the :class:`Redone` entry. What is common to every entry
is done here: the author's sequence number (``record_authors``), and the nonce of the act
a member's entry holds (``act_nonces``), so that a replay of an act the center took in
after the backup is refused after the restore as before it.

What no entry holds cannot be redone, and redo says so rather than guess
(:attr:`Redoing.notes`): an opening the owner did not hand back (a hidden declaration, a
message's content, a draft: :meth:`Redoing.opened`), a user's token (a user added in the
tail gets one nobody holds: ``accord users rotate`` gives a new one), and rows no entry
covers (contacts, presence, tracks, idempotency answers, live events). An entry of a kind
with no redo is refused (:class:`~accord.errors.BackupError`), and the restore with it:
nothing is half-applied.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias, cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.db.models import Opening as OpeningRow
from accord.center.db.models import RecordAuthor, User
from accord.center.db.models_signing import ActNonce
from accord.errors import BackupError
from accord.monitor.state import Opening
from accord.record.canonical import decode_base64
from accord.record.commitments import CommitmentError, open_commitment

__all__ = ["MODULES", "Redo", "Redoing", "Redone", "redo_entries", "redo_of"]

MODULES: tuple[str, ...] = (
    "accord.center.declarations.redo",
    "accord.center.operations.redo",
    "accord.center.directline.redo",
    "accord.center.airspace.redo",
    "accord.center.phases.redo",
    "accord.center.disclosure.redo",
    "accord.center.users.redo",
    "accord.center.certificates.redo",
    "accord.center.signing.redo",
    "accord.center.reports.redo",
    "accord.center.drafts.redo",
)
"""The modules that say how to redo the kinds their feature records (each a ``REDO``)."""

_authors = cast(Table, RecordAuthor.__table__)
_nonces = cast(Table, ActNonce.__table__)
_openings = cast(Table, OpeningRow.__table__)
_users = cast(Table, User.__table__)


@dataclass(frozen=True, slots=True)
class Redone:
    """One entry to redo: its index, author, sequence number, signed time and event, and
    for a member's version 2 entry the act it holds (an ``{"of": i}`` already replaced by
    entry ``i``'s act), else None; ``holds_act``: the entry holds it whole (the first entry
    of its act, whose index the act's nonce is kept with)."""

    index: int
    author: str
    seq: int
    at: datetime
    event: Mapping[str, Any]
    act: Mapping[str, Any] | None = None
    holds_act: bool = False

    @property
    def kind(self) -> str:
        return str(self.event["kind"])

    @property
    def user(self) -> str | None:
        """The user who acted, as the member signed it in its act (None without an act: a
        legacy agreement's entry, or the center's own)."""
        if self.act is None:
            return None
        user = self.act["signed"].get("user")
        return user if isinstance(user, str) else None


@dataclass
class Redoing:
    """What a redo function is given besides its entry: an ORM session over the restore's
    connection (one transaction, flushed after each entry, never committed here), the
    agreement, the log's origin (the center's name), the openings handed back by entry
    index, and the notes of what could not be redone."""

    session: Session
    agreement: Agreement
    origin: str
    openings: Mapping[int, Opening] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unopened: dict[str, list[int]] = field(default_factory=dict)
    """The entries, by owner, whose hidden declaration or message could not be rebuilt for
    want of an opening (:meth:`unopened_change`): the restore refuses them unless told
    otherwise."""
    _user_ids: dict[str, int | None] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    def next_number(self, name: str, first: Callable[[], int]) -> int:
        """The next value of the counter ``name`` (a table's ``rev``, say): ``first()`` the
        first time (as the service reads it, from the tables), one more each time after —
        redo alone writes while it runs, so the tables are not read again."""
        value = self._counters[name] + 1 if name in self._counters else first()
        self._counters[name] = value
        return value

    def note(self, entry: Redone, text: str) -> None:
        """Say what entry ``entry``'s redo could not do."""
        self.notes.append(f"entry {entry.index} ({entry.kind}): {text}")

    def unopened_change(self, entry: Redone, owner: str) -> None:
        """Entry ``entry`` changed one of ``owner``'s hidden declarations, or sent one of its
        messages, and it could not be rebuilt for want of its opening: a center that checks
        operations against what is in force, and carries the parties' warnings, must not
        take that silently (:func:`accord.center.recovery.tail.recover` refuses it unless
        the operator names ``owner``). Drafts and check warnings are only noted."""
        self.unopened.setdefault(owner, []).append(entry.index)

    def opened(
        self, entry: Redone, *, owner: str, commitment_field: str = "commitment"
    ) -> Any | None:
        """The content the commitment in ``entry``'s event field ``commitment_field`` is to,
        if its owner handed back an opening that opens it: the ``openings`` row is then
        written again (``owner`` is shown it, as before) and the content, parsed, returned.
        None, with a note, when no opening was handed back or it does not open the
        commitment (it is then ignored: an opening is checked, never trusted)."""
        handed = self.openings.get(entry.index)
        committed = entry.event.get(commitment_field)
        if handed is None or not isinstance(committed, str):
            self.note(entry, f"{owner} handed back no opening: its content stays unknown")
            return None
        try:
            content = open_commitment(
                entry.event, salt=handed.salt, content=handed.content, field=commitment_field
            )
        except CommitmentError as error:
            self.note(entry, f"the opening {owner} handed back does not open it ({error})")
            return None
        self.session.execute(
            _openings.insert().values(
                entry=entry.index,
                owner=owner,
                commitment=decode_base64(committed, what="commitment", size=32),
                salt=decode_base64(handed.salt, what="salt"),
                content=handed.content,
            )
        )
        return content

    def user_id(self, name: str | None) -> int | None:
        """The id of the user named ``name`` (None for no name, or a name no user has)."""
        if name is None:
            return None
        if name not in self._user_ids:
            self._user_ids[name] = self.session.execute(
                select(_users.c.id).where(_users.c.name == name)
            ).scalar()
        return self._user_ids[name]

    def forget_users(self) -> None:
        """Forget the user ids looked up (a redo that adds or renames users calls it)."""
        self._user_ids.clear()


Redo: TypeAlias = Callable[[Redoing, Redone], None]
"""How to redo an entry of one kind: apply its event to the tables, as its unit did."""

_REDO: dict[str, Redo] = {}


def redo_of(kind: str) -> Redo | None:
    """The redo function of the entry kind ``kind`` (None for a kind no feature redoes)."""
    if not _REDO:
        for name in MODULES:
            module = importlib.import_module(name)
            for each, function in module.REDO.items():
                if each in _REDO:
                    raise ValueError(f"two features redo {each!r}")
                _REDO[each] = function
    return _REDO.get(kind)


def unusable_token_hash() -> str:
    """A token hash no token has: a user rebuilt from the record has none until rotated."""
    return hashlib.sha256(b"accord-redone-user\x00" + secrets.token_bytes(32)).hexdigest()


def redo_entries(context: Redoing, entries: Iterable[Redone]) -> int:
    """Redo ``entries`` (record order, each verified) in ``context``'s session; how many.
    Raises :class:`~accord.errors.BackupError` for an entry of a kind no feature redoes,
    or whose redo fails: the caller rolls the whole restore back."""
    last: dict[str, int] = {}
    count = 0
    for entry in entries:
        redo = redo_of(entry.kind)
        if redo is None:
            raise BackupError(
                f"entry {entry.index} is a {entry.kind!r} entry, and the center cannot "
                "rebuild its tables from that kind: nothing restored"
            )
        _act_nonce(context, entry)
        try:
            redo(context, entry)
            context.session.flush()
        except (KeyError, ValueError, TypeError, SQLAlchemyError) as error:
            raise BackupError(
                f"entry {entry.index} ({entry.kind}) cannot be redone on the backup's tables: "
                f"{error!r}; nothing restored"
            ) from error
        last[entry.author] = entry.seq
        count += 1
    for author, seq in last.items():
        done = context.session.execute(
            update(_authors).where(_authors.c.author == author).values(seq=seq)
        )
        if not getattr(done, "rowcount", 0):
            context.session.execute(_authors.insert().values(author=author, seq=seq))
    context.session.flush()
    return count


def _act_nonce(context: Redoing, entry: Redone) -> None:
    """The nonce of the act a member's entry holds whole (the first entry of its act),
    with the act's opening when the record holds it (else empty: sealed, not recorded)."""
    if entry.act is None or not entry.holds_act:
        return
    signed = entry.act["signed"]
    opening = entry.act.get("opening")
    salt, body = "", ""
    if isinstance(opening, Mapping):
        salt = str(opening["salt"])
        body = json.dumps(opening["body"], sort_keys=True, separators=(",", ":"))
    context.session.execute(
        _nonces.insert().values(nonce=str(signed["nonce"]), entry=entry.index, salt=salt, body=body)
    )
