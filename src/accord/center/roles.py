"""The roles of the service's users (the brief's "people who use it"); no dependencies, so
the command line can name them without loading the database layer."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    """What a user of the service may do."""

    OFFICER = "officer"
    APPROVER = "approver"
    NOTIFIER = "notifier"
    MONITOR = "monitor"
    ADMIN = "admin"
