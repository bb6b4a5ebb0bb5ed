"""The joint coordination center as a service: an HTTP API over the core and the record.

A folder per feature, each holding its service functions, its record entry kinds, its
queries and its routes (``<feature>/routes.py``, listed in :data:`accord.center.app.ROUTERS`):

* :mod:`~accord.center.declarations` — what parties and notifiers declare;
* :mod:`~accord.center.disclosure` — hidden objects as others meet them: shadows, probing;
* :mod:`~accord.center.operations` — proposals, their checks and life cycle, the world cache;
* :mod:`~accord.center.directline` — messages, acknowledgements by hash, their escalation;
* :mod:`~accord.center.escalation` — escalation along contact chains, for messages and
  alerts alike: the step rule, chains and presence, the stored steps, the background loop;
* :mod:`~accord.center.airspace` — tracks in, alerts out, flight-plan probes;
* :mod:`~accord.center.phases` — the agreement's phases and the conditions confirmed;
* :mod:`~accord.center.record` — signing entries and heads, keys, the record's routes;
* :mod:`~accord.center.picture` — the picture replayed from the record, compliance;
* :mod:`~accord.center.users` — users and tokens, who the caller is;
* :mod:`~accord.center.events` — live events, published in the unit that causes them.

And what they share:

* :mod:`~accord.center.visibility` — the one policy that decides who may see what;
* :mod:`~accord.center.entry_kinds` — the registry of record entry kinds;
* :mod:`~accord.center.runtime` — the Center: units of work, the writer;
* :mod:`~accord.center.bootstrap` — the composition root: builds, starts and stops a
  process's parts (the center, its caches, the writer, the background jobs);
* :mod:`~accord.center.http` — the HTTP layer the routes use: problems (RFC 9457, the
  one mapping from the domain's errors), authentication, the middlewares, the page;
* :mod:`~accord.center.app` — the HTTP application assembled: :func:`create_app` (every
  feature's router, the HTTP layer, the page, around the composition root's parts);
* :mod:`~accord.center.db` — tables (SQLAlchemy 2), engines, Alembic migrations, and the
  record's log storage in the same database;
* :mod:`~accord.center.config`, :mod:`~accord.center.cli` — settings, and ``accord serve``,
  ``accord db upgrade``, ``accord users``.
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
