"""``/v1/events``: Live events (Server-Sent Events)."""

from __future__ import annotations

from fastapi import APIRouter

from accord.center.routes.deps import ERRORS

router = APIRouter(prefix="/v1", tags=["events"], responses=ERRORS)
