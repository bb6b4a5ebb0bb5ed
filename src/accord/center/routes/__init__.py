"""The HTTP routes, one small module per resource, each an :class:`fastapi.APIRouter`."""

from __future__ import annotations

from accord.center.routes import keys, me, phases, record

ROUTERS = (me.router, keys.router, record.router, phases.router)
"""Every router, in the order the OpenAPI schema lists them."""

__all__ = ["ROUTERS"]
