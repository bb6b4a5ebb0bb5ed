"""The joint coordination center as a service: an HTTP API over the core and the record.

* :mod:`~accord.center.config` — :class:`Settings`, explicit; the environment is read only
  by the commands that start things;
* :mod:`~accord.center.db` — tables (SQLAlchemy 2), engines, Alembic migrations, and the
  record's log storage in the same database;
* :mod:`~accord.center.identity`, :mod:`~accord.center.keystore` — users with hashed bearer
  tokens, and the members' server-side signing keys; :mod:`~accord.center.users` — their
  life cycle (add, rotate, remove, expiry), each change recorded by the center;
* :mod:`~accord.center.runtime`, :mod:`~accord.center.ledger` — units of work that commit the
  service's rows and their record entries in one transaction;
* :mod:`~accord.center.phases`, :mod:`~accord.center.heads` — what the routes do;
* :mod:`~accord.center.bootstrap` — the composition root: builds, starts and stops a
  process's parts (the center, its caches, the writer, the background jobs);
* :mod:`~accord.center.app` — :func:`create_app`, the HTTP application around them; routes
  in :mod:`~accord.center.routes`; errors as RFC 9457 problems
  (:mod:`~accord.center.problems`);
* :mod:`~accord.center.cli` — ``accord serve``, ``accord db upgrade``, ``accord users``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accord.center.app import create_app
    from accord.center.config import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: the ``accord`` command imports this package and should not pay for FastAPI.
    if name == "create_app":
        from accord.center.app import create_app

        return create_app
    if name == "Settings":
        from accord.center.config import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
