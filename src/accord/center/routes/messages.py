"""``/v1/messages``: The direct line: messages, acknowledgements, escalation."""

from __future__ import annotations

from fastapi import APIRouter

from accord.center.routes.deps import ERRORS

router = APIRouter(prefix="/v1", tags=["direct-line"], responses=ERRORS)
