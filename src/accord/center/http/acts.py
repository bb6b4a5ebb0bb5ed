"""A request's act, as it travels: the signature and what it binds, in four headers.

A member's write carries the act it is (:mod:`accord.record.acts`) signed by the acting
user's own key, on the user's side. What the act says is the request itself, so only what
the request does not hold travels beside it::

    Accord-Act-Key: 139e3940e64b5491            the key id of the user's key
    Accord-Act-At: 2026-05-01T12:00:00Z         the client's clock when the user signed
    Accord-Act-Nonce: <22+ base64url chars>     the act's nonce
    Accord-Act-Salt: <43 base64url chars>       the salt of the body's seal
    Accord-Act-Signature: <base64>              Ed25519 over the act's RFC 8785 form

and the act signed is ``{"accord-act": 1, "action": "<METHOD> <path>[?<query>]", "at", "key",
"member": <the caller's member>, "nonce", "origin": <this log's origin>, "seal":
seal_of(<the JSON body, {} for none>, salt), "user": <the caller's name>}`` — the request line
exactly as sent (its path not decoded), and the body as parsed, sealed. The bearer token says
who calls; the signature, that the user made this request; the center can check it and
refuse it, never make it. The salt and the body are the act's opening: the center keeps it
(and the user), the record holds the seal alone.
"""

from __future__ import annotations

import json
from typing import Final

from fastapi import Request

from accord.center.acts import Presented
from accord.center.identity import Caller
from accord.errors import ActError, ActSignatureError, DuplicateKey, NotJsonNumber
from accord.jsontext import loads
from accord.record.acts import ACT_MARKER, ACT_VERSION, seal_of, signed_act_from_json

__all__ = ["HEADERS", "Presented", "action_of", "header_of", "read_act"]

HEADERS: Final = {
    "key": "Accord-Act-Key",
    "at": "Accord-Act-At",
    "nonce": "Accord-Act-Nonce",
    "salt": "Accord-Act-Salt",
    "signature": "Accord-Act-Signature",
}
"""The act's member → the header that carries it."""


def header_of(field: str) -> str | None:
    """The header that carries an act's ``field`` (None: the request itself carries it)."""
    return HEADERS.get(field)


def action_of(request: Request) -> str:
    """``"<METHOD> <path>[?<query>]"``: the request line as the client sent it."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    query = request.scope.get("query_string", b"")
    if isinstance(query, bytes) and query:
        path += "?" + query.decode("latin-1")
    return f"{request.method} {path}"


async def read_act(request: Request, caller: Caller, *, origin: str) -> Presented:
    """The act the request carries, read strictly (its signature not checked yet: the
    unit of work does, against the key registry as of its turn); ``ActError`` naming the
    header or body field at fault, ``ActSignatureError`` when it carries none."""
    values = {name: request.headers.get(header) for name, header in HEADERS.items()}
    if all(value is None for value in values.values()):
        raise ActSignatureError(
            "signature",
            "missing: a member's request carries its act, signed by the user's own key "
            f"({', '.join(HEADERS.values())})",
        )
    for name, value in values.items():
        if value is None:
            raise ActError(name, "missing")
    data = await request.body()
    if data.strip():
        try:
            body = loads(data)
        except (DuplicateKey, NotJsonNumber, ValueError) as error:
            raise ActError("body", f"not JSON an act can sign: {error}") from None
    else:
        body = {}
    salt = values["salt"]
    assert salt is not None
    signed = signed_act_from_json(
        {
            ACT_MARKER: ACT_VERSION,
            "action": action_of(request),
            "at": values["at"],
            "key": values["key"],
            "member": caller.member,
            "nonce": values["nonce"],
            "origin": origin,
            "seal": seal_of(body, salt=salt),
            "user": caller.name,
            "signature": values["signature"],
        }
    )
    return Presented(signed, salt, json.dumps(body, ensure_ascii=False, separators=(",", ":")))
