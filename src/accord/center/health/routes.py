"""``GET /healthz`` and ``GET /readyz``: what an operator's supervisor (systemd, a load
balancer, a monitoring probe) asks a node, with no token — and all they tell is a word.

* ``/healthz`` (liveness): ``200 {"status": "alive"}`` while the process answers HTTP.
* ``/readyz`` (readiness, :func:`~accord.center.health.service.readiness`): ``200
  {"status": "ready"}``; else ``503`` with ``"starting"`` (the record's verification at
  start-up is still running) or ``"unavailable"`` (the database does not answer, or the
  record does not verify: the log says which; the answer does not).

Neither needs a token (:class:`~accord.center.http.auth.BearerAuth` guards ``/v1`` and
``/tlog`` only), so neither says anything a stranger could use: no size, no version, no error
text, no time; a readiness answer is kept a second per application. Neither is in the OpenAPI
schema, whose every operation is the bearer-protected API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from accord.center.health.service import Readiness
from accord.center.runtime import Center

__all__ = ["router"]

router = APIRouter()
_NO_STORE = {"Cache-Control": "no-store"}  # a proxy between probe and node keeps nothing


@router.get("/healthz", include_in_schema=False)
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "alive"}, headers=_NO_STORE)


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    center: Center | None = getattr(state, "center", None)
    if center is None:
        return JSONResponse({"status": "starting"}, status_code=503, headers=_NO_STORE)
    kept: Readiness | None = getattr(state, "readiness", None)
    if kept is None:
        kept = state.readiness = Readiness()
    status = kept.status(center)
    code = 200 if status == "ready" else 503
    return JSONResponse({"status": status}, status_code=code, headers=_NO_STORE)
