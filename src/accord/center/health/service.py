"""Whether a node is ready to serve: its database answers and its record is verified up to
the top (see :mod:`accord.center.health.routes`, which answers it)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from accord.center.picture.verified import verified_log, verified_of
from accord.center.runtime import Center
from accord.errors import AccordError

__all__ = ["READY_FOR_S", "READY_STEP", "Readiness", "Status", "readiness"]

Status = Literal["ready", "starting", "unavailable"]

READY_FOR_S = 1.0
"""How long a readiness answer is kept before the database is asked again."""
READY_STEP = 2000
"""The most new entries one readiness check verifies (about 0.35 s of one core): a node
taking writes stays ready, and a node far behind says ``starting`` until it catches up."""

_log = logging.getLogger("accord.center")


def readiness(center: Center) -> Status:
    """``ready`` when the database answers and this process has verified every entry of the
    record (its :class:`~accord.center.picture.verified.VerifiedRecord`, which the start-up
    warms and this check extends by up to :data:`READY_STEP` new entries), the stored tree
    still having the root it verified; ``starting`` while more are left to verify;
    ``unavailable`` when the database does not answer or the record does not verify
    (logged, with why)."""
    try:
        with center.reading() as session:
            log = verified_log(center, session, most=READY_STEP)
            verified = verified_of(center).standing(log)
            size = log.size
    except (SQLAlchemyError, AccordError, OSError) as error:
        _log.warning("not ready: %s", error)
        return "unavailable"
    except Exception as error:  # the driver's own errors, unwrapped on the prepared reads
        _log.warning("not ready: %s: %s", type(error).__name__, error)
        return "unavailable"
    return "ready" if verified >= size else "starting"


class Readiness:
    """:func:`readiness`, asked at most once per :data:`READY_FOR_S`: a flood of probes costs
    one database read a second (one per application)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._at = -float("inf")
        self._status: Status = "starting"

    def status(self, center: Center) -> Status:
        with self._lock:
            if self._clock() - self._at >= READY_FOR_S:
                self._status = readiness(center)
                self._at = self._clock()
            return self._status
