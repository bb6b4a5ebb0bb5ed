"""The HTTP routes, one small module per resource, each an :class:`fastapi.APIRouter`."""

from __future__ import annotations

from accord.center.routes import (
    agreement,
    compliance,
    declarations,
    events,
    keys,
    me,
    messages,
    operations,
    phases,
    picture,
    probing,
    record,
    tracks,
    users,
)

ROUTERS = (
    me.router,
    agreement.router,
    keys.router,
    phases.router,
    declarations.router,
    operations.router,
    messages.router,
    events.router,
    record.router,
    picture.router,
    compliance.router,
    tracks.router,
    probing.router,
    users.router,
)
"""Every router, in the order the OpenAPI schema lists them."""

__all__ = ["ROUTERS"]
