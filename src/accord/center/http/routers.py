"""Every feature's routes, each an :class:`fastapi.APIRouter` in its feature's folder
(``<feature>/routes.py``); a new feature's router is added here."""

from __future__ import annotations

from accord.center.airspace import routes as airspace
from accord.center.declarations import routes as declarations
from accord.center.directline import routes as directline
from accord.center.disclosure import routes as disclosure
from accord.center.events import routes as events
from accord.center.operations import routes as operations
from accord.center.phases import agreement_routes as agreement
from accord.center.phases import routes as phases
from accord.center.picture import compliance_routes as compliance
from accord.center.picture import routes as picture
from accord.center.record import keys_routes as keys
from accord.center.record import routes as record
from accord.center.users import me_routes as me
from accord.center.users import routes as users

ROUTERS = (
    me.router,
    agreement.router,
    keys.router,
    phases.router,
    declarations.router,
    operations.router,
    directline.router,
    events.router,
    record.router,
    picture.router,
    compliance.router,
    airspace.router,
    disclosure.router,
    users.router,
)
"""Every router, in the order the OpenAPI schema lists them."""

__all__ = ["ROUTERS"]
