"""``/v1/operations``: Operations: proposal, approval, veto, objection, execution."""

from __future__ import annotations

from fastapi import APIRouter

from accord.center.routes.deps import ERRORS

router = APIRouter(prefix="/v1", tags=["operations"], responses=ERRORS)
