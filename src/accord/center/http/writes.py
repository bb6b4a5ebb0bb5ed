"""Every state change goes through :func:`write`: one unit of work, answered once.

``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header): a POST that carries it is
answered, the first time, by running the change and storing its answer *in the same
transaction* as the change itself; a retry by the same user with the same key and the same
request gets that stored answer again (with ``Idempotent-Replayed: true``) and changes
nothing. The same key with a different request is refused (422, field ``Idempotency-Key``).
Writers are serialised, so two copies of one request racing each other are answered one
after the other: the second sees the first's answer. A request the rules refuse commits
nothing, stores nothing, and may be retried.

**Acts.** Under an agreement that names its members' roots, a member's write carries its act,
signed by the user's own key (:mod:`accord.center.http.acts`); the unit takes it in
(:func:`accord.center.signing.service.accept`: key, signature, clock, nonce) before the
change runs, and after the stored answer of a retry is looked up — a retry with the same
``Idempotency-Key`` and the same signed request replays the first answer; the same nonce in
any other request is refused (DECISIONS 10). The act's signature and nonce are part of what
makes two requests the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from accord.agreement import CENTER
from accord.center.acts import Presented, Signing, accept, check_caused
from accord.center.db.models import IdempotentAnswer
from accord.center.http.acts import read_act
from accord.center.http.admission import Timed, admission
from accord.center.http.problems import FieldProblem, ProblemError
from accord.center.identity import Caller
from accord.center.roles import Role
from accord.center.runtime import Center, Then, Unit

__all__ = ["HEADER", "KEY_MAX", "REPLAYED", "Answer", "Answering", "payer_of", "write"]

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_MAX = 255


def payer_of(caller: Caller) -> str:
    """Whose share of the writer's time a write is charged to: its member's, or for an
    administrator (the center's own acts: its air-picture feed, users, tokens) the center's
    (:data:`~accord.agreement.CENTER`, which no member's id is). So the center's feed at
    thousands of reports a second never spends a party's share, and a party's writes never
    wait behind the feed's."""
    return CENTER if caller.role is Role.ADMIN else caller.member


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


def _fingerprint(request: Request, body: BaseModel | None, signed: Presented | None) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\x00" + request.url.path.encode())
    digest.update(b"\x00" + str(request.url.query).encode())
    if body is not None:
        digest.update(b"\x00" + body.model_dump_json().encode("utf-8", "surrogatepass"))
    if signed is not None:
        act = signed.signed
        digest.update(b"\x00" + act.act.nonce.encode() + b"\x00" + act.signature)
    return digest.hexdigest()


class _Rendered(JSONResponse):
    """A JSON answer already rendered (by pydantic, in one pass; or as stored)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a write answers: its status and JSON body, and whether it is a stored answer
    replayed."""

    status: int
    body: bytes
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Answering:
    """The unit of work of one request: run ``act`` and render its answer, or replay the
    answer stored under the request's idempotency key (see the module docstring). A plain
    value of module-level parts, so that a writer process can receive it pickled."""

    act: Callable[[Unit], BaseModel]
    user_id: int
    key: str | None
    fingerprint: str
    status: int
    at: datetime
    signed: Presented | None = None
    signing: Signing = Signing.ACT

    def __call__(self, unit: Unit) -> Answer:
        key = self.key
        if key is not None:
            stored = unit.session.scalars(
                select(IdempotentAnswer).where(
                    IdempotentAnswer.user_id == self.user_id, IdempotentAnswer.key == key
                )
            ).first()
            if stored is not None:
                if stored.fingerprint != self.fingerprint:
                    message = "this key was used for a different request"
                    raise ProblemError(
                        422,
                        f"{HEADER}: {message}",
                        kind="idempotency-key-reused",
                        errors=[FieldProblem(field=HEADER, location="header", message=message)],
                    )
                return Answer(stored.status, stored.body.encode(), replayed=True)
        if self.signed is not None:
            accept(unit, self.signed, signing=self.signing)
        answer = self.act(unit).model_dump_json()
        check_caused(unit)
        if key is not None:
            unit.session.add(
                IdempotentAnswer(
                    user_id=self.user_id,
                    key=key,
                    fingerprint=self.fingerprint,
                    status=self.status,
                    body=answer,
                    created_at=self.at,
                )
            )
        return Answer(self.status, answer.encode())


async def write(
    center: Center,
    request: Request,
    caller: Caller,
    act: Callable[[Unit], BaseModel],
    *,
    body: BaseModel | None = None,
    status: int = 201,
    before: Callable[[Unit], object] | None = None,
    signing: Signing | None = Signing.ACT,
) -> JSONResponse:
    """Run ``act`` in one unit of work (on the writer: see
    :meth:`~accord.center.runtime.Center.write`) and answer its result with ``status``;
    honour the request's ``Idempotency-Key`` (see the module docstring). ``body`` is the
    parsed request body, part of what makes two requests the same. ``before``: the
    center's own work, in a unit of its own just before (it stands whatever the request's
    answer; :class:`~accord.center.runtime.Then`). ``act`` and ``before`` are module
    functions or :func:`functools.partial` of one over plain values (a writer process
    receives them pickled); they find the service's parts in ``unit.center``.

    The caller's member (an administrator's writes: the center's own, :func:`payer_of`) is
    held to its share of the writer's time and its places in the writer's queue
    (:mod:`accord.center.http.admission`): a 429 with ``Retry-After`` when it has spent its
    share; the write waits for a place when it holds them all.

    ``signing``: which keys may sign the request's act, under an agreement that names its
    members' roots (``None``: the request is no member's act — the center's own work, or a
    request that carries a signature of its own). An administrator's writes are the
    center's own: they carry no member's act."""
    key = _key(request)
    signed = None
    # An administrator's writes are the center's own acts (DECISIONS 6, 8), signed by it.
    if signing is not None and center.agreement.rooted and caller.role is not Role.ADMIN:
        signed = await read_act(request, caller, origin=center.origin)
    fingerprint = _fingerprint(request, body, signed) if key is not None else ""
    gate = admission(center)
    payer = payer_of(caller)
    gate.admit_write(payer, request.url.path)
    answering = Answering(
        act, caller.user_id, key, fingerprint, status, center.now(), signed,
        Signing.ACT if signing is None else signing,
    )  # fmt: skip
    job = Timed(answering, payer)
    async with gate.slot(payer):
        answer, spent = await center.write(job if before is None else Then(before, job))
    gate.writes.spend(payer, spent)
    headers = {REPLAYED: "true"} if answer.replayed else None
    return _Rendered(answer.body, status_code=answer.status, headers=headers)
