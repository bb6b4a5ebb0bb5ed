"""Taking a member's signed act in: the step every member's write begins with.

Under an agreement that names its members' roots (:attr:`Agreement.rooted
<accord.agreement.Agreement.rooted>`), every change a member asks for comes with its act,
signed on its own side (:mod:`accord.record.acts`); the HTTP layer reads it from the request
(:mod:`accord.center.http.acts`) and the unit of work takes it in with :func:`accept` before
anything else, in the writer's order, so that a revocation appended before it counts:

1. the key must be one the member's root certified for this use, valid at the entry the
   act will take (:class:`~accord.record.registry.KeyRegistry`, folded from
   ``key_entries``: :data:`REGISTRY`) — for ``act``, the acting user's own key, and the
   agreement in force (a ``device-reports`` key signs only its devices' reports: the
   registry's requests, and on declarations only positions that carry a ``device``); for
   ``certify``, the member's root or a certifying key; for ``root``, the root itself;
2. the signature must verify over the act's canonical bytes, for this log's origin, with a
   client timestamp within ±5 minutes of the center's clock (DECISIONS 10);
3. its nonce must be new (``act_nonces``): a replay is refused.

Only then is it :attr:`Ledger.acting <accord.center.ledger.Ledger.acting>`, which the
member's entries of this unit carry. Nothing the center signs counts as a member's act
(DECISIONS 8). The entries that change who may sign are :mod:`accord.center.signing`'s.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, cast
from urllib.parse import unquote

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from accord.agreement import Agreement
from accord.center.db.models import Declaration, Restore
from accord.center.db.models_signing import ActNonce, KeyEntry
from accord.center.entry_kinds import kind_named
from accord.center.ledger import Acting
from accord.center.runtime import Center, CenterCache, Unit
from accord.errors import (
    ActClockError,
    ActError,
    ActKeyError,
    ActReplayError,
    NoAct,
    PhaseError,
    RecordDamaged,
)
from accord.record.acts import SignedAct, verify_act
from accord.record.bindings import fits_any
from accord.record.registry import (
    ACT,
    DEVICE_REPORTS,
    KeyRegistry,
    device_report_request,
    registration_from_body,
    revocation_from_body,
)

__all__ = [
    "REGISTERED",
    "REGISTRY",
    "REVOKED",
    "SIGNED",
    "Presented",
    "Signing",
    "accept",
    "check_caused",
    "registry",
]

SIGNED: Final = "agreement.signed"
REGISTERED: Final = "key.registered"
REVOKED: Final = "key.revoked"
"""The kinds of the entries that change who may sign (declared by
:mod:`accord.center.signing.service`)."""


@dataclass(frozen=True, slots=True)
class Presented:
    """An act as a request presents it: the signed act, and its opening (the salt, and the
    body as the request sent it, JSON text: :mod:`accord.center.http.acts` reads it)."""

    signed: SignedAct
    salt: str
    body: str


class Signing(StrEnum):
    """Which keys may sign a request's act."""

    ACT = "act"
    """A user's own key, certified for ``act``, with the agreement in force."""
    CERTIFY = "certify"
    """The member's root, or a key it certified to certify."""
    ROOT = "root"
    """The member's root alone."""


# --- the registry, as the record has it -----------------------------------------------------

_entries = cast(Table, KeyEntry.__table__)
_nonces = cast(Table, ActNonce.__table__)
_restores = cast(Table, Restore.__table__)


class _Registries:
    """The center's :class:`KeyRegistry`, folded from ``key_entries`` and folded again
    whenever the table no longer ends where it did (another unit, another node, a rollback)."""

    def __init__(self, center: Center) -> None:
        self._agreement = center.agreement
        self._lock = threading.Lock()
        self._mark: tuple[int, int] | None = None
        self._registry: KeyRegistry | None = None

    def get(self, session: Session) -> KeyRegistry:
        count, last = session.execute(
            select(func.count(), func.max(_entries.c.entry)).select_from(_entries)
        ).one()
        mark = (int(count), -1 if last is None else int(last))
        with self._lock:
            if self._registry is None or mark != self._mark:
                rows = session.execute(select(_entries).order_by(_entries.c.entry)).all()
                self._registry = _fold(self._agreement, rows)
                self._mark = mark
            return self._registry


def _fold(agreement: Agreement, rows: Any) -> KeyRegistry:
    if not agreement.rooted:  # legacy: nobody signs on its own side, nothing to fold
        return KeyRegistry({}, parties=())
    registry = KeyRegistry(agreement.roots(), parties=agreement.party_ids)
    for row in rows:
        try:
            body = json.loads(row.body)
            who = {"member": row.member, "key_id": row.signer, "index": row.entry}
            if row.kind == SIGNED:
                registry.sign_agreement(**who)
            elif row.kind == REGISTERED:
                registry.register(registration_from_body(body), user=row.user, **who)
            elif row.kind == REVOKED:
                registry.revoke(revocation_from_body(body), user=row.user, **who)
        except (ActError, ValueError) as error:
            raise RecordDamaged(f"key entry {row.entry} does not fold: {error}") from error
    return registry


REGISTRY: CenterCache[_Registries] = CenterCache("signing.registry", _Registries)
"""The key registry of a center (made with it: :data:`accord.center.bootstrap.CACHES`)."""


class _Restored:
    """The instant of the latest restore that made the center's database (None: never
    restored), read once: a restore is made with every server stopped."""

    def __init__(self, center: Center) -> None:
        self._read = False
        self._at: datetime | None = None
        self._lock = threading.Lock()

    def latest(self, session: Session) -> datetime | None:
        with self._lock:
            if not self._read:
                self._at = session.execute(select(func.max(_restores.c.at))).scalar()
                self._read = True
            return self._at


RESTORED: CenterCache[_Restored] = CenterCache("acts.restored", _Restored)
"""When the center's database was last restored (:data:`accord.center.bootstrap.CACHES`)."""


def registry(unit: Unit) -> KeyRegistry:
    """The registry as the unit's transaction has it (do not change it: copy it)."""
    return unit.center.cache(REGISTRY).get(unit.session)


# --- taking an act in ------------------------------------------------------------------------


def accept(unit: Unit, presented: Presented, *, signing: Signing) -> None:
    """Take the act ``presented`` in as the unit's act (see the module docstring), keeping
    its opening (salt and body) with its nonce; or raise:
    ``ActKeyError`` (the key may not sign it), ``ActSignatureError``, ``ActClockError``,
    ``ActReplayError`` or ``PhaseError`` (the agreement is not in force yet)."""
    center = unit.center
    signed = presented.signed
    act = signed.act
    index = unit.ledger.log.size  # the entry the act's first entry will be
    keys = registry(unit)
    if signing is Signing.ACT:
        if not keys.in_force(index):
            waiting = sorted(center.agreement.party_ids - set(keys.signed))
            raise PhaseError(
                "the agreement is not in force yet: the roots of "
                f"{', '.join(waiting)} have not signed it"
            )
        key = keys.actor(
            member=act.member, user=act.user, key_id=act.key, index=index, action=act.action
        )
        found = keys.get(act.key)
        if found is not None and ACT not in found.purposes:  # a device-reports key
            _device_report(unit, act.action, presented.body, key_id=act.key, member=act.member)
    elif signing is Signing.CERTIFY:
        key = keys.certifier(member=act.member, user=act.user, key_id=act.key, index=index)
    else:
        key = keys.root(member=act.member, key_id=act.key)
    verify_act(signed, key=key, origin=center.origin, now=center.now())
    restored = center.cache(RESTORED).latest(unit.session)
    if restored is not None and act.at <= restored:
        raise ActClockError(
            "at",
            f"signed at {act.at.isoformat()}, not after this center was restored "
            f"({restored.isoformat()}): an act from before a restore may be one whose nonce "
            "the backup lost; sign it again",
        )
    statement = _insert_nonce(unit.session).values(
        nonce=act.nonce, entry=index, salt=presented.salt, body=presented.body
    )
    # RETURNING says whether the row went in (an ORM session's rowcount does not, on every
    # driver)
    kept = unit.session.connection().execute(
        statement.on_conflict_do_nothing(index_elements=["nonce"]).returning(_nonces.c.nonce)
    )
    if kept.first() is None:
        raise ActReplayError("nonce", "another act used this nonce already: a replay is refused")
    unit.ledger.acting = Acting(signed, key.raw, json.loads(presented.body), presented.salt)


def _device_report(unit: Unit, action: str, body: str, *, key_id: str, member: str) -> None:
    """Refuse (``ActKeyError`` naming ``key``) a device-reports key's act on a declaration
    that is not a position carrying a ``device``: the body's, for a declaration; the stored
    one's — of the acting member, in force or not — for an amendment (whose body must carry
    one too) or a withdrawal. The registry checked the request itself."""
    what = device_report_request(action)
    if what not in ("declare", "amend", "withdraw", "hidden"):
        return
    refused = ActKeyError(
        "key",
        f"key {key_id} is certified for {DEVICE_REPORTS} only: on declarations it signs "
        "positions that carry a device (properties.device), nothing else",
    )
    parsed = json.loads(body)
    if what == "hidden":  # each change held as its own request would be
        changes = parsed.get("changes") if isinstance(parsed, dict) else None
        if not isinstance(changes, list):
            raise refused
        for change in changes:
            if not isinstance(change, dict):
                raise refused
            if change.get("change") in ("declare", "amend") and not _carries_device(
                change.get("feature")
            ):
                raise refused
            if change.get("change") in ("amend", "withdraw"):
                _stored_device(unit, change.get("id"), member=member, refused=refused)
        return
    if what in ("declare", "amend") and not _carries_device(parsed):
        raise refused
    if what == "declare":
        return
    path = action.partition(" ")[2].partition("?")[0]
    _stored_device(unit, unquote(path.split("/")[3]), member=member, refused=refused)


def _stored_device(unit: Unit, object_id: object, *, member: str, refused: ActKeyError) -> None:
    """Refuse unless ``object_id`` is a declaration of ``member`` (in force or not) that is
    a position carrying a device; another member's is refused exactly as a missing one."""
    row = unit.session.get(Declaration, object_id) if isinstance(object_id, str) else None
    if row is None or row.owner != member or not _carries_device(json.loads(row.feature)):
        raise refused


def _carries_device(feature: object) -> bool:
    """Whether ``feature`` (a request's body, or a stored declaration) is a position with a
    ``device`` property."""
    if not isinstance(feature, dict):
        return False
    props = feature.get("properties")
    return (
        isinstance(props, dict)
        and props.get("kind") == "position"
        and isinstance(props.get("device"), dict)
    )


def check_caused(unit: Unit) -> None:
    """Raise ``NoAct`` if an entry the unit's act caused is of a kind its request cannot
    cause (:attr:`EntryKind.acts <accord.center.entry_kinds.EntryKind.acts>`): a bug of the
    center — the verifier would name such an entry, so none is ever committed."""
    acting = unit.ledger.acting
    if acting is None:
        return
    action = acting.signed.act.action
    for event in acting.events:
        data = json.loads(event) if isinstance(event, bytes) else event
        kind = kind_named(str(data.get("kind")))
        if kind is None or not fits_any(action, kind.acts, data):
            raise NoAct(f"{action} cannot cause a {data.get('kind')!r} entry like this one")


def _insert_nonce(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(_nonces)
    return sqlite.insert(_nonces)
