"""``/v1/declarations``: Protected sites, movements, positions and flight plans."""

from __future__ import annotations

from fastapi import APIRouter

from accord.center.routes.deps import ERRORS

router = APIRouter(prefix="/v1", tags=["declarations"], responses=ERRORS)
