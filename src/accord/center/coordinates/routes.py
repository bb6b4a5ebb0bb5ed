"""``GET /v1/coordinates?text=…``: a point a person typed, read by
:func:`accord.coordinates.parse_point` — the one parser, so the page shows before a submit
exactly the point the center will store — and given back in all three forms. Any signed-in
member may ask; the answer depends on the text alone (it reads nothing of the world), and a
text that is no point is a 422 naming ``text``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from accord.center.http.auth import ALL_ROLES, allow
from accord.center.http.deps import ERRORS
from accord.center.identity import Caller
from accord.coordinates import Point, parse_point

__all__ = ["CoordinatesOut", "FormsOut", "router"]

router = APIRouter(prefix="/v1", tags=["identity"], responses=ERRORS)


class FormsOut(BaseModel):
    """The point in each form: MGRS to the metre, decimal degrees (5 decimals), DMS
    (tenths of a second)."""

    mgrs: str
    decimal: str
    dms: str


class CoordinatesOut(BaseModel):
    """The point read: ``lon``, ``lat`` (WGS84 degrees; for MGRS the square's centre), the
    form typed (``kind``), the text normalised, an MGRS square's side (``precision_m``,
    else null) and how far the true point may lie from ``lon, lat`` (``uncertainty_m``:
    a declaration made with ``properties.mgrs`` widens its own by this)."""

    lon: float
    lat: float
    kind: Literal["mgrs", "decimal", "dms"]
    text: str
    precision_m: int | None
    uncertainty_m: float
    forms: FormsOut

    @classmethod
    def of(cls, point: Point) -> CoordinatesOut:
        """The answer for ``point``."""
        return cls(
            lon=point.lon,
            lat=point.lat,
            kind=point.kind,
            text=point.text,
            precision_m=point.precision_m,
            uncertainty_m=point.uncertainty_m,
            forms=FormsOut(**point.forms()),
        )


@router.get(
    "/coordinates", response_model=CoordinatesOut, summary="Read a point typed as MGRS, DD or DMS"
)
async def coordinates(
    _caller: Annotated[Caller, Depends(allow(*ALL_ROLES))], text: str = ""
) -> CoordinatesOut:
    """The point ``text`` names: MGRS (``34R EN 50455 65040``), decimal degrees latitude
    first (``25.3456, 21.7654``, or with N/S E/W letters) or degrees-minutes-seconds
    (``25°20'44.4"N 21°45'55.4"E``, ``252044.4N 0214555.4E``); 422 naming ``text`` with
    what is wrong."""
    return CoordinatesOut.of(parse_point(text, field="text"))
