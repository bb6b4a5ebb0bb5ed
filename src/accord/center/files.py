"""The center's files on disk: only the user it runs as may open them.

The SQLite database holds every party's hidden geometry, the openings of its commitments and
the hashes of the tokens; the keys folder holds the center's private keys. So, whatever the
umask:

* a folder the center creates for them (the data folder, ``./var`` by default, the keys
  folder, and any missing parent) is made ``0700``;
* the database file is created ``0600`` before SQLite opens it (SQLite gives its ``-wal``
  and ``-shm`` files the database file's mode); an existing database, ``-wal``, ``-shm`` or
  ``-journal`` file that group or others may open is **tightened** to ``0600`` and a warning
  logged — the file is the center's own, and the earlier versions made it ``0644``;
* an existing data or keys folder that group or others may open is **refused**
  (:class:`UnsafePermissions`, saying which ``chmod`` fixes it): a folder is not the center's
  alone to change — it may be a home, a shared mount or ``/tmp``, and tightening it as root
  would lock others out — while left open it shows every local user the files' names, sizes
  and modification times (when hidden declarations changed) and, if writable, lets them put
  files there.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from accord.errors import UnsafePermissions

__all__ = [
    "DATABASE_SUFFIXES",
    "UnsafePermissions",
    "check_folder",
    "private_database_file",
    "private_folder",
    "tighten",
]

DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")
"""The files of one SQLite database: the file itself, then what SQLite keeps beside it."""

_log = logging.getLogger("accord.center")


def private_folder(path: Path, what: str) -> None:
    """Make ``path`` (and every missing parent) mode ``0700``; refuse an existing one that
    group or others may open. ``what`` names it in the message (``data folder``)."""
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            made.mkdir(mode=0o700)
        except FileExistsError:  # another process made it meanwhile: it is checked below
            continue
        os.chmod(made, 0o700)  # whatever the umask did
    check_folder(path, what)


def check_folder(path: Path, what: str) -> None:
    """Refuse ``path`` if it exists and group or others may open it (nothing is created)."""
    if not path.exists():
        return
    try:
        info = path.stat()
    except OSError as error:
        raise UnsafePermissions(f"the {what} {path} cannot be used: {error.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePermissions(f"the {what} {path} is not a folder")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise UnsafePermissions(
            f"the {what} {path} is mode {mode:04o}: other users can reach the files in it; "
            f"run `chmod 700 {path}`, or choose a folder only this user can open"
        )


def private_database_file(path: Path) -> None:
    """Create the SQLite file ``path`` mode ``0600`` if it does not exist (in a private
    folder, see :func:`private_folder`); tighten it and the files beside it to ``0600``."""
    private_folder(path.parent, "data folder")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
    for suffix in DATABASE_SUFFIXES:
        tighten(path.with_name(path.name + suffix))


def tighten(path: Path) -> None:
    """``path``, a file of the center's, mode ``0600`` if group or others may open it."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePermissions(f"{path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        _log.warning("%s was mode %04o: now 0600 (only this user may open it)", path, mode)
