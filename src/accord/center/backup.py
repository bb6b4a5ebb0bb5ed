"""``accord db backup OUT`` and ``accord db restore IN``: a consistent copy of a running
center's database, and that copy put back into an empty database — checked both ways.

**Backup.** SQLite: the online backup API (``sqlite3.Connection.backup``) copies the file
in one step under one read transaction, so the copy is the database at one instant while
the server goes on writing (WAL lets writers continue). PostgreSQL: ``pg_dump
--format=custom`` run on a snapshot this process exported (``pg_export_snapshot`` in a
``REPEATABLE READ`` transaction), so the head reported is exactly the dump's; the password
travels in ``PGPASSWORD``, never on a command line. The copy is written mode ``0600`` (it
holds every party's hidden declarations' openings and the users' token hashes) under a
temporary name, renamed when whole; an existing file is never overwritten. What a backup
answers: the record's size and root in the copy (:class:`Head`), to write down beside it.

**Restore** only into an empty database (no file, or an empty one; a PostgreSQL database
with no table), and only with the center's key material present (the keys folder the
operator copies: a missing center key would be made anew and sign nothing of this
record). The copy is restored, migrated to this version's schema, and its whole record
verified (every entry chained, signed by its author's registered key, sequenced) before
the database is the restored one: SQLite restores under a temporary name renamed last;
PostgreSQL in one transaction (``pg_restore --single-transaction``), and on a failed check
everything it restored is dropped. Nothing is half-applied.

**Never below a witnessed head.** Before a restored database is the database, every party's
witness the agreement names is asked the largest size it cosigned for this log; a restore
while a witness cannot be asked is refused, unless the operator names its party
(``--without-witness``). A backup older than what was cosigned gets its missing tail from
the parties' monitors' copies of the record the operator gives (``--from-monitor DIR``: a
monitor's state folder; :mod:`accord.center.recovery`): every entry checked, appended, and
redone on the tables, in the same transaction as the rest of the restore. A record still
shorter than a witnessed head is refused (a center never serves less than a record its
witnesses cosigned): nothing is restored.

**Kept.** Each restore is written in the database it made (``restores``: when, the backup's
size, the record's, what was recovered and what could not be redone). Acts that write no
entry (a track report, a contact chain, presence) left no nonce in the record, so the
backup may have lost some taken in since: an act signed at or before the latest restore is
refused (:func:`accord.center.acts.accept`), and its user signs it again. The live events
published after the backup are lost with it; the restored center numbers its events past
any a subscriber may have seen (:func:`_events_resume_past_the_lost`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from accord.agreement import Agreement
from accord.center.db import make_engine, upgrade
from accord.center.db.engine import sqlite_file
from accord.center.db.models import Event, Restore
from accord.center.files import check_folder
from accord.center.keystore import KeyStore, log_origin
from accord.center.ledger import open_log
from accord.center.picture.verified import VerifiedRecord
from accord.center.record.witnesses import witnessed_size
from accord.center.recovery.tail import recover
from accord.errors import BackupError, WitnessFailed
from accord.record.log import LogHead

__all__ = ["Head", "Restored", "backup", "restore"]

_restores = cast(Table, Restore.__table__)
_events = cast(Table, Event.__table__)


@dataclass(frozen=True, slots=True)
class Head:
    """The record in a copy: its number of entries and its Merkle root (hex)."""

    entries: int
    root: str

    def line(self) -> str:
        return f"{self.entries:,} entries, root {self.root}"


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore did: the record it restored (:class:`Head`), how many entries of it
    came from the monitors' copies and were redone on the tables, and what of them could
    not be (:attr:`accord.center.recovery.Recovered.notes`)."""

    head: Head
    recovered: int = 0
    notes: tuple[str, ...] = ()


def _head(connection: Connection, origin: str) -> Head:
    log = open_log(lambda: connection, origin)
    size = log.size
    return Head(size, log.root(size).hex() if size else "")


# --- backup ---------------------------------------------------------------------------------


def backup(url: str, out: Path, *, agreement: Agreement) -> Head:
    """Copy the database at ``url`` to ``out`` (see the module docstring); the copy's head."""
    if out.exists() or out.is_symlink():
        raise BackupError(f"{out} exists: a backup never overwrites a file")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent} is no folder")
    origin = log_origin(agreement)
    partial = out.with_name(f".{out.name}.partial")
    try:
        if make_url(url).get_backend_name() == "sqlite":
            head = _backup_sqlite(url, partial, origin)
        else:
            head = _backup_postgresql(url, partial, origin)
        os.replace(partial, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return head


def _private_file(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(fd)


def _backup_sqlite(url: str, into: Path, origin: str) -> Head:
    source_file = sqlite_file(url)
    if source_file is None or not source_file.is_file():
        raise BackupError(f"no SQLite database file at {url}")
    _private_file(into)
    source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    copy = sqlite3.connect(into)
    try:
        source.backup(copy)  # one step: the database at one instant (a read transaction)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        (ok,) = copy.execute("PRAGMA integrity_check").fetchone()
        if ok != "ok":
            raise BackupError(f"the copy does not pass SQLite's integrity check: {ok}")
    except sqlite3.Error as error:
        raise BackupError(f"the SQLite backup failed: {error}") from error
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{into}")
    try:
        with engine.connect() as connection:
            return _head(connection, origin)
    finally:
        engine.dispose()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for ``url`` without its password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _backup_postgresql(url: str, into: Path, origin: str) -> Head:
    pg_dump = _tool("pg_dump")
    address, env = _libpq(url)
    _private_file(into)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            head = _head(connection, origin)
            done = subprocess.run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                 f"--file={into}", f"--dbname={address}"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            connection.execute(text("COMMIT"))
    finally:
        engine.dispose()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[-500:]}")
    return head


# --- restore --------------------------------------------------------------------------------


def restore(
    copy: Path,
    url: str,
    *,
    agreement: Agreement,
    keys: Path,
    without_witness: Collection[str] = (),
    monitors: Sequence[Path] = (),
    without_openings: Collection[str] = (),
    at: datetime | None = None,
) -> Restored:
    """Restore the backup ``copy`` into the empty database at ``url``, migrate it, verify
    its whole record with the center's keys in ``keys``, recover the entries the monitors'
    copies (``monitors``: their state folders) hold past it, and ask every party's witness
    that it cosigned no longer record (:func:`_not_behind`; ``without_witness``: parties
    whose witness the operator knowingly restores without; ``without_openings``: parties
    whose hidden declarations changed in the recovered tail it restores without their
    openings; ``at``: the instant kept as the restore's, now by default — an act signed at or
    before it is refused, its nonce maybe one the backup lost); see the module docstring.
    Raises :class:`BackupError` (nothing applied) or the record's
    :class:`~accord.errors.RecordDamaged`."""
    if not copy.is_file():
        raise BackupError(f"no backup at {copy}")
    origin = log_origin(agreement)
    if not (keys / f"{origin}.key").is_file():
        raise BackupError(
            f"{keys} holds no {origin}.key: copy the center's key material to this machine "
            "first (a key made anew would sign nothing of this record)"
        )
    check_folder(keys, "keys folder")
    unknown = set(without_witness) - set(agreement.witnesses)
    if unknown:
        raise BackupError(f"--without-witness: no witness of {', '.join(sorted(unknown))}")
    unknown = set(without_openings) - {member.id for member in agreement.acting_members}
    if unknown:
        raise BackupError(f"--without-openings: no member {', '.join(sorted(unknown))}")
    checks = _Checks(
        origin, agreement, keys, frozenset(without_witness), tuple(monitors),
        frozenset(without_openings), datetime.now(UTC) if at is None else at,
    )  # fmt: skip
    if make_url(url).get_backend_name() == "sqlite":
        return _restore_sqlite(copy, url, checks)
    return _restore_postgresql(copy, url, checks)


@dataclass(frozen=True, slots=True)
class _Checks:
    origin: str
    agreement: Agreement
    keys: Path
    without_witness: frozenset[str]
    monitors: tuple[Path, ...]
    without_openings: frozenset[str]
    at: datetime


def _witnessed(checks: _Checks, stored: LogHead) -> tuple[dict[str, int], list[str]]:
    """The size each party's witness cosigned, asked with the restored record's latest
    signed head (:func:`~accord.center.record.witnesses.witnessed_size`), and the witnesses
    that could not be asked (a party not in ``without_witness``)."""
    sizes, unasked = {}, []
    for party, ref in sorted(checks.agreement.witnesses.items()):
        try:
            sizes[party] = witnessed_size(ref, note=stored.note, size=stored.size)
        except WitnessFailed as error:
            if party not in checks.without_witness:
                unasked.append(f"{party}'s ({error})")
    return sizes, unasked


def _not_behind(sizes: dict[str, int], unasked: list[str], head: Head, *, monitors: int) -> None:
    """Refuse a record shorter than a head any party's witness cosigned, or a restore while
    a witness that could not be asked might have cosigned more."""
    behind = [
        f"{party}'s witness cosigned a record of {size:,}"
        for party, size in sizes.items()
        if size > head.entries
    ]
    if behind:
        got = (
            f"with the {monitors} monitors' copies given, the record holds"
            if monitors
            else "this backup holds"
        )
        raise BackupError(
            f"{got} {head.entries:,} entries, but {'; '.join(behind)}: a center never serves "
            "less than a record its witnesses cosigned; give a party's monitor's state "
            "folder that holds the rest (--from-monitor), or restore a newer backup"
        )
    if unasked:
        raise BackupError(
            "cannot tell whether the witnesses cosigned more than this backup holds: "
            f"{'; '.join(unasked)}; restore when they answer, or name the party with "
            "--without-witness"
        )


def _verified(url: str, checks: _Checks) -> Restored:
    """Migrate the database at ``url``, verify its whole record, recover its missing tail
    from the monitors' copies, and check that no witness cosigned a longer one."""
    origin, agreement, keys = checks.origin, checks.agreement, checks.keys
    engine = make_engine(url)
    try:
        upgrade(engine)
        ring = KeyStore(keys, agreement).ring()
        with engine.begin() as connection:  # one transaction: all of it, or none
            log = open_log(lambda: connection, origin, exclusive=True)
            try:
                record = VerifiedRecord(ring, origin)  # verifies what it has not yet
                record.read(log, start=log.size)  # the whole backup, checked, none kept
                stored = log.latest_head()
            except (TypeError, ValueError, SQLAlchemyError) as error:  # not even rows of a log
                raise BackupError(f"the backup's record cannot be read: {error}") from error
            # a record never signed was never witnessed
            sizes, unasked = _witnessed(checks, stored) if stored is not None else ({}, [])
            recovered = None
            if checks.monitors:
                recovered = recover(
                    connection, log, ring=ring, agreement=agreement, copies=checks.monitors,
                    read=lambda whole, start: record.read(whole, start=start),
                    without_openings=checks.without_openings,
                )  # fmt: skip
            head = _head(connection, origin)
            _not_behind(sizes, unasked, head, monitors=len(checks.monitors))
            done = (
                Restored(head)
                if recovered is None
                else Restored(head, recovered.entries, recovered.notes)
            )
            connection.execute(
                _restores.insert().values(
                    at=checks.at, backup_size=head.entries - done.recovered, size=head.entries,
                    recovered=done.recovered, notes=json.dumps(list(done.notes)),
                )
            )  # fmt: skip
            _events_resume_past_the_lost(connection, checks, done)
        return done
    finally:
        engine.dispose()


EVENT_GAP = 1_000_000_000
"""How far past the backup's last live event the restored center's events are numbered."""


def _events_resume_past_the_lost(connection: Connection, checks: _Checks, done: Restored) -> None:
    """Number the restored center's live events past any a subscriber may have seen.

    The center went on publishing after the backup; those events are lost with it, but a
    subscriber (a page's ``EventSource`` sends ``Last-Event-ID`` when it reconnects) may
    resume after one of them, and would be shown nothing until the restored center's ids
    caught up with its cursor. So the restore publishes ``center.restored`` to every member
    numbered :data:`EVENT_GAP` past the backup's last event, and every event after it is
    numbered after that: a cursor from before the restore sees it, and all that follows."""
    last = connection.execute(select(func.max(_events.c.id))).scalar() or 0
    members = sorted(m.id for m in checks.agreement.acting_members)
    connection.execute(
        _events.insert().values(
            id=last + EVENT_GAP, at=checks.at, kind="center.restored",
            audience=json.dumps(members),
            payload=json.dumps(
                {"restored_at": checks.at.isoformat(), "size": done.head.entries,
                 "recovered": done.recovered},
                separators=(",", ":"), sort_keys=True,
            ),
        )
    )  # fmt: skip
    if connection.dialect.name == "postgresql":  # the next id is after it (SQLite: max + 1)
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('events', 'id'), :last)"),
            {"last": last + EVENT_GAP},
        )


@contextlib.contextmanager
def _removed_on_failure(path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise


def _restore_sqlite(copy: Path, url: str, checks: _Checks) -> Restored:
    target = sqlite_file(url)
    if target is None:
        raise BackupError(f"restore into an SQLite file, not {url}")
    if target.exists() and target.stat().st_size > 0:
        raise BackupError(f"{target} exists: restore only into an empty database")
    check_folder(target.parent, "data folder")
    restoring = target.with_name(f".{target.name}.restoring")
    if restoring.exists():
        raise BackupError(f"{restoring} exists: another restore is under way, or failed")
    with _removed_on_failure(restoring):
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private_file(restoring)
        source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        into = sqlite3.connect(restoring)
        try:
            source.backup(into)
        except sqlite3.Error as error:
            raise BackupError(f"{copy} is not an SQLite backup: {error}") from error
        finally:
            into.close()
            source.close()
        restored = _verified(f"sqlite:///{restoring}", checks)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} was written meanwhile: nothing restored")
        os.replace(restoring, target)
    return restored


def _restore_postgresql(copy: Path, url: str, checks: _Checks) -> Restored:
    pg_restore = _tool("pg_restore")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()
    if tables:
        raise BackupError(f"the database holds {tables} tables: restore only into an empty one")
    address, env = _libpq(url)
    done = subprocess.run(
        [pg_restore, "--single-transaction", "--exit-on-error", "--no-owner",
         "--no-privileges", f"--dbname={address}", str(copy)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:  # one transaction: nothing of it stayed
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[-500:]}")
    try:
        return _verified(url, checks)
    except BaseException:
        _drop_everything(url)
        raise


def _drop_everything(url: str) -> None:
    """Empty the database again (it was empty before the restore)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
