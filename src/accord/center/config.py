"""The service's settings: one explicit, immutable object.

Nothing here reads the environment on its own: the commands that start things (``accord
serve``, ``accord db``, ``accord users``) and the composition root's
:func:`~accord.center.bootstrap.settings_from_environment` call :func:`database_url` with
the environment they were given, so a test builds :class:`Settings` directly and nothing
leaks in.

>>> database_url(None, {})
'sqlite:///./var/accord.sqlite'
>>> database_url(None, {"ACCORD_DATABASE_URL": "sqlite:///x.db"})
'sqlite:///x.db'
>>> database_url("sqlite:///y.db", {"ACCORD_DATABASE_URL": "sqlite:///x.db"})
'sqlite:///y.db'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from accord.examples import example_path

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_ESCALATION_INTERVAL_S",
    "DEFAULT_KEYS_DIR",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_WITNESS_INTERVAL_S",
    "Settings",
    "database_url",
]

DEFAULT_DATABASE_URL = "sqlite:///./var/accord.sqlite"
"""An embedded SQLite file (WAL) under ``./var/``."""

DATABASE_URL_ENV = "ACCORD_DATABASE_URL"
"""The environment variable that overrides the default database (e.g.
``postgresql+psycopg://user@localhost/accord``); read only by the composition root."""

DEFAULT_KEYS_DIR = Path("var/keys")
"""Where the server keeps one Ed25519 key file per member (mode 0600)."""

DEFAULT_MAX_BODY_BYTES = 1 << 20
"""Request bodies over this many bytes are refused with 413 (1 MiB)."""


DEFAULT_ESCALATION_INTERVAL_S = 5.0
DEFAULT_WITNESS_INTERVAL_S = 1.0
"""How often the center looks for a new head to have the parties' witnesses cosign."""
"""How often the background task escalates unacknowledged messages and alerts (seconds)."""


def _default_agreement() -> Path:
    return example_path("jig.yaml")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service is configured with.

    ``database_url`` is an SQLAlchemy URL (``sqlite:///path`` or
    ``postgresql+psycopg://…``); ``agreement_path`` the agreement's YAML file (default: the
    embedded example); ``keys_dir`` the folder of the members' and the center's private keys;
    ``max_body_bytes`` the largest request body accepted; ``escalation_interval_s`` the
    tick of the background task that escalates unacknowledged direct-line messages and
    airspace alerts (0 turns it off: reads of messages still escalate what is due);
    ``witness_interval_s`` how often the center looks for a new head to have the parties'
    witnesses cosign (:mod:`accord.center.record.witnesses`; 0 turns the asking off);
    ``heap_upkeep`` whether the process keeps long-lived objects out of the garbage
    collector's full collections (:mod:`accord.center.heap`: on in the processes ``accord
    serve`` starts, off in tests and one-off commands); ``unsafe_center_holds_member_keys``
    whether an agreement that names no trust roots is served the old way, the center
    holding and using every member's signing key — which lets it sign for any member, so it
    is for the tests of features that do not concern signing and nothing else: no command,
    file or variable sets it (issue 17); ``basemap`` the operator's detailed basemap, a PMTiles
    archive the page draws over Natural Earth (``accord serve --basemap``; ``None``: Natural
    Earth alone).
    """

    database_url: str = DEFAULT_DATABASE_URL
    agreement_path: Path = field(default_factory=_default_agreement)
    keys_dir: Path = DEFAULT_KEYS_DIR
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    escalation_interval_s: float = DEFAULT_ESCALATION_INTERVAL_S
    witness_interval_s: float = DEFAULT_WITNESS_INTERVAL_S
    heap_upkeep: bool = False
    unsafe_center_holds_member_keys: bool = False
    basemap: Path | None = None

    def __post_init__(self) -> None:
        if not self.database_url:
            raise ValueError("the database URL is empty")
        if self.max_body_bytes < 1:
            raise ValueError("the request body limit must be at least one byte")
        if not self.escalation_interval_s >= 0:
            raise ValueError("the escalation interval is zero (off) or more seconds")
        if not self.witness_interval_s >= 0:
            raise ValueError("the witnesses' interval is zero (off) or more seconds")


def database_url(option: str | None, environ: Mapping[str, str]) -> str:
    """The database URL: the command-line option, else ``ACCORD_DATABASE_URL`` from
    ``environ``, else the default SQLite file."""
    if option:
        return option
    return environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
