"""The center as the gateway talks to it: its API over HTTP, every write signed with the
gateway user's key (:class:`accord.office.SignedActs`), every answer read bounded.

The gateway is a client like any other: it can only ask, and the center can only answer —
it never holds the key, so it cannot make the gateway sign anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from accord.cotpki.check import Holder, Known, Lookup
from accord.office import SignedActs
from accord.record.keys import PrivateKey

__all__ = ["Answer", "CenterApi", "Me", "certificate_lookup"]

_MAX_ANSWER = 4 * 1024 * 1024
_PAGE = 100
_MAX_PAGES = 1000


@dataclass(frozen=True, slots=True)
class Answer:
    """A status and its JSON body (``None`` when it had none or did not read)."""

    status: int
    body: Any
    retry_after: float | None = None

    @property
    def detail(self) -> str:
        """The problem's detail (or title), for a log line."""
        if isinstance(self.body, dict):
            text = self.body.get("detail") or self.body.get("title") or ""
            errors = self.body.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                text = f"{text} ({errors[0].get('field')}: {errors[0].get('message')})"
            return str(text)[:300]
        return ""

    def names(self, field: str) -> bool:
        """Whether the problem names ``field`` among its errors."""
        if not isinstance(self.body, dict):
            return False
        errors = self.body.get("errors")
        return isinstance(errors, list) and any(
            isinstance(e, dict) and e.get("field") == field for e in errors
        )


@dataclass(frozen=True, slots=True)
class Me:
    """Who a token is (``GET /v1/me``): name, member, role; the record's origin."""

    name: str
    member: str
    role: str
    origin: str
    exercise: bool = False
    """Whether the center runs an exercise clock (``/v1/me``'s ``exercise``)."""
    now: datetime | None = None
    """The center's time when it answered."""


async def _answer(response: httpx.Response) -> Answer:
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > _MAX_ANSWER:
            return Answer(response.status_code, None)
    try:
        body = json.loads(data) if data.strip() else None
    except ValueError:
        body = None
    retry = response.headers.get("Retry-After")
    try:
        after = float(retry) if retry is not None else None
    except ValueError:
        after = None
    return Answer(response.status_code, body, after)


class CenterApi:
    """The center's API for the gateway user (``token``; writes signed with ``key`` once
    :meth:`sign_as` knows the origin and member)."""

    def __init__(self, client: httpx.AsyncClient, *, token: str) -> None:
        self.client = client
        self.token = token
        self.auth: httpx.Auth | None = None

    def sign_as(
        self, me: Me, key: PrivateKey, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        """Sign every write from now on as ``me`` with ``key``."""
        extra = {} if clock is None else {"clock": clock}
        self.auth = SignedActs(
            token=self.token, key=key, origin=me.origin, member=me.member, user=me.name, **extra
        )

    def _bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Answer:
        """One request; a write signed. A transport failure is an :class:`Answer` of 0."""
        sent = dict(headers or {})
        auth = self.auth if method != "GET" and self.auth is not None else None
        if auth is None:
            sent.update(self._bearer())
        try:
            request = self.client.build_request(
                method, path, json=json_body, headers=sent, params=params
            )
            response = await self.client.send(request, auth=auth, stream=True)
        except httpx.HTTPError as error:
            return Answer(0, {"detail": f"{type(error).__name__}: {error}"[:300]})
        try:
            return await _answer(response)
        finally:
            await response.aclose()

    async def me(self, token: str | None = None) -> Me | None:
        """Who ``token`` (default: the gateway's) is; ``None`` when it is no valid token."""
        try:
            response = await self.client.get("/v1/me", headers=self._bearer(token))
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        body = response.json()
        now = body.get("now")
        return Me(
            str(body["name"]), str(body["member"]), str(body["role"]), str(body["origin"]),
            exercise=body.get("exercise") is True,
            now=datetime.fromisoformat(now) if isinstance(now, str) else None,
        )  # fmt: skip

    async def certificates(self) -> list[dict[str, Any]] | None:
        """The member's TAK certificates (``GET /v1/cot/certificates``), ``None`` on failure."""
        answer = await self.request("GET", "/v1/cot/certificates")
        if answer.status != 200 or not isinstance(answer.body, dict):
            return None
        items = answer.body.get("items")
        return items if isinstance(items, list) else None

    async def own_positions(self, member: str) -> list[dict[str, Any]]:
        """The member's positions in force (every page of ``GET /v1/declarations``)."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(_MAX_PAGES):
            params: dict[str, Any] = {
                "kind": "position", "owner": member, "status": "active", "limit": _PAGE,
            }  # fmt: skip
            if after is not None:
                params["after"] = after
            answer = await self.request("GET", "/v1/declarations", params=params)
            if answer.status != 200 or not isinstance(answer.body, dict):
                break
            items = answer.body.get("items") or []
            found.extend(i for i in items if isinstance(i, dict))
            after = answer.body.get("next")
            if not after:
                break
        return found


def certificate_lookup(items: list[dict[str, Any]]) -> Lookup:
    """A :data:`~accord.cotpki.check.Lookup` over the certificates the center listed."""
    known: dict[str, Known] = {}
    for item in items:
        try:
            revoked = item.get("revoked_at")
            known[str(item["serial"])] = Known(
                serial=str(item["serial"]),
                fingerprint=str(item["fingerprint"]),
                holder=Holder(str(item["name"]), str(item["member"]), str(item["role"])),
                not_after=datetime.fromisoformat(str(item["not_after"])),
                revoked_at=None if revoked is None else datetime.fromisoformat(str(revoked)),
                user_removed_at=None,
            )
        except (KeyError, TypeError, ValueError):
            continue
    return known.get
