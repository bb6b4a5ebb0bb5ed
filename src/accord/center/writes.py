"""Every state change goes through :func:`write`: one unit of work, answered once.

``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header): a POST that carries it is
answered, the first time, by running the change and storing its answer *in the same
transaction* as the change itself; a retry by the same user with the same key and the same
request gets that stored answer again (with ``Idempotent-Replayed: true``) and changes
nothing. The same key with a different request is refused (422, field ``Idempotency-Key``).
Writers are serialised, so two copies of one request racing each other are answered one
after the other: the second sees the first's answer. A request the rules refuse commits
nothing, stores nothing, and may be retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from accord.center.db.models import IdempotentAnswer
from accord.center.identity import Caller
from accord.center.problems import FieldProblem, ProblemError
from accord.center.runtime import Center, Unit

__all__ = ["HEADER", "KEY_MAX", "REPLAYED", "write"]

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_MAX = 255


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= KEY_MAX or not key.isascii() or not key.isprintable():
        message = f"an idempotency key is 1 to {KEY_MAX} printable ASCII characters"
        raise ProblemError(
            422,
            f"{HEADER}: {message}",
            kind="validation",
            errors=[FieldProblem(field=HEADER, location="header", message=message)],
        )
    return key


def _fingerprint(request: Request, body: BaseModel | None) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\x00" + request.url.path.encode())
    digest.update(b"\x00" + str(request.url.query).encode())
    if body is not None:
        digest.update(b"\x00" + body.model_dump_json().encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class _Rendered(JSONResponse):
    """A JSON answer already rendered (by pydantic, in one pass; or as stored)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


async def write(
    center: Center,
    request: Request,
    caller: Caller,
    act: Callable[[Unit], BaseModel],
    *,
    body: BaseModel | None = None,
    status: int = 201,
) -> JSONResponse:
    """Run ``act`` in one unit of work (on the writer thread: see
    :meth:`~accord.center.runtime.Center.write`) and answer its result with ``status``;
    honour the request's ``Idempotency-Key`` (see the module docstring). ``body`` is the
    parsed request body, part of what makes two requests the same."""
    key = _key(request)
    fingerprint = _fingerprint(request, body) if key is not None else ""

    def unit_of_work(unit: Unit) -> JSONResponse:
        if key is not None:
            stored = unit.session.scalars(
                select(IdempotentAnswer).where(
                    IdempotentAnswer.user_id == caller.user_id, IdempotentAnswer.key == key
                )
            ).first()
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    message = "this key was used for a different request"
                    raise ProblemError(
                        422,
                        f"{HEADER}: {message}",
                        kind="idempotency-key-reused",
                        errors=[FieldProblem(field=HEADER, location="header", message=message)],
                    )
                return _Rendered(
                    stored.body.encode(), status_code=stored.status, headers={REPLAYED: "true"}
                )
        answer = act(unit).model_dump_json()
        if key is not None:
            unit.session.add(
                IdempotentAnswer(
                    user_id=caller.user_id,
                    key=key,
                    fingerprint=fingerprint,
                    status=status,
                    body=answer,
                    created_at=center.now(),
                )
            )
        return _Rendered(answer.encode(), status_code=status)

    return await center.write(unit_of_work)
