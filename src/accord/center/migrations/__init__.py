"""Alembic migrations of the service's schema; run them with
:func:`accord.center.db.upgrade` or ``accord db upgrade``."""
