"""The monitor's HTTP edge: the center's tiled log and the witnesses' checkpoints read with
``httpx``, the alarm posted to a webhook on loopback, and the violation report filed.

Every failure to read — a refused connection, a timeout, a status other than 200 — is an
:class:`~accord.errors.Unavailable` (the round is tried again, and past ``--stall-after`` the
log is ``stalled``); nothing read is trusted before :mod:`accord.monitor.core` checked it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from accord.agreement import CENTER
from accord.errors import MonitorAlarm, Unavailable
from accord.record.canonical import canonical_json

from .core import Opening, WitnessSource

__all__ = ["HttpSources", "check_loopback", "post_webhook", "report_body"]

MAX_BODY = 1 << 25
"""The most bytes read from one answer (a full bundle of 256 entries of 64 KiB is 16 MiB)."""
REPORT_TEXT_MAX = 4000
"""``POST /v1/reports``'s ``what``: at most 4,000 characters."""


class _Answer:
    """A 200 answer's body, read whole but never past :data:`MAX_BODY`."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


def _get(
    client: httpx.Client,
    url: str,
    what: str,
    *,
    params: Mapping[str, str] | None = None,
    absent: tuple[int, ...] = (404,),
) -> _Answer | None:
    """The answer to ``GET url``: None for a status in ``absent``, :class:`Unavailable` for
    an error — an answer over :data:`MAX_BODY` bytes among them, its reading stopped there (a
    center that sends without end fills no memory of the monitor's)."""
    try:
        with client.stream("GET", url, params=params) as response:
            if response.status_code in absent:
                return None
            if response.status_code != 200:
                raise Unavailable(f"{what}: the server answered {response.status_code}")
            chunks: list[bytes] = []
            read = 0
            for chunk in response.iter_bytes():
                read += len(chunk)
                if read > MAX_BODY:
                    raise Unavailable(f"{what}: an answer over {MAX_BODY} bytes")
                chunks.append(chunk)
            return _Answer(b"".join(chunks))
    except httpx.HTTPError as error:
        raise Unavailable(f"{what}: {type(error).__name__}: {error}") from None


class HttpSources:
    """The center's ``/tlog`` through ``client`` (its base URL the center's, its bearer token
    a record reader's) and each party's witness at ``witness_urls[party]``."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        origin: str,
        witness_urls: Mapping[str, str],
        witness_client: httpx.Client | None = None,
        party: str | None = None,
    ) -> None:
        self._client = client
        self._party = party
        self._witness_client = witness_client or httpx.Client(timeout=10.0)
        self._origin_hash = hashlib.sha256(origin.encode("utf-8")).hexdigest()
        self._witness_urls = dict(witness_urls)
        self.fetched: list[str] = []
        """Every path fetched from the center (for a person, or a test, to count)."""

    def close(self) -> None:
        self._witness_client.close()

    def checkpoint(self) -> str:
        self.fetched.append("checkpoint")
        response = _get(self._client, "tlog/checkpoint", "the center's checkpoint")
        if response is None:
            raise Unavailable("the center's checkpoint: 404")
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            return response.content.decode("utf-8", "replace")  # refused by the note parser

    def tile(self, path: str) -> bytes:
        self.fetched.append(path)
        response = _get(self._client, f"tlog/{path}", f"the center's {path}")
        if response is None:
            # Within a checkpoint the center signed, a tile it does not serve is withheld:
            # tried again, and stalled past --stall-after.
            raise Unavailable(f"the center's {path}: 404")
        return response.content

    def witness(self, witness: WitnessSource) -> str | None:
        base = self._witness_urls.get(witness.party) or witness.url
        if base is None:
            return None
        # The witness's monitoring endpoint: GET <url>/<hex SHA-256(origin)>/checkpoint.
        url = f"{base.rstrip('/')}/{self._origin_hash}/checkpoint"
        response = _get(self._witness_client, url, f"{witness.party}'s witness")
        if response is None:
            return None
        return response.content.decode("utf-8", "replace")

    def openings(self) -> list[Opening] | None:
        """Every opening the center serves the party of this monitor's token: its own
        declarations (``GET /v1/declarations?owner=<party>``, page by page), each one's
        openings (``GET /v1/declarations/{id}/openings``), and its drafts' entries' (``GET
        /v1/drafts/openings``). None without a party, or when the token may not read the
        declarations (403)."""
        if self._party is None:
            return None
        out: list[Opening] = []
        after: str | None = None
        while True:
            params = {"owner": self._party, "limit": "500", **({"after": after} if after else {})}
            # 403: the token may not read them; a 404 is the center's failure, as any status
            response = _get(
                self._client, "v1/declarations", "the declarations", params=params, absent=(403,)
            )
            if response is None:
                return None
            page = response.json()
            for item in page.get("items", []):
                found = _get(self._client, f"v1/declarations/{item['id']}/openings", "an opening")
                if found is None:
                    continue
                for entry in found.json().get("entries", []):
                    opened = entry.get("opening")
                    if opened:
                        out.append(Opening.of(opened))
            after = page.get("next")
            if not after:
                return out + self._draft_openings()

    def message_openings(self, ids: Sequence[str]) -> list[Opening]:
        """The opening of each of the party's sent messages ``ids`` (``GET
        /v1/messages/{id}/opening``; the content as the canonical JSON committed to); one
        the token may not read (403) or that the center does not have (404) is left out."""
        out: list[Opening] = []
        for message in ids:
            found = _get(
                self._client, f"v1/messages/{message}/opening", "a message's opening",
                absent=(403, 404),
            )  # fmt: skip
            if found is None:
                continue
            opened = found.json()  # its content parsed: the text committed to is canonical
            content = canonical_json(opened["content"]).decode("utf-8")
            out.append(Opening.of({**opened, "content": content}))
        return out

    def _draft_openings(self) -> list[Opening]:
        """The openings of the party's ``draft.changed`` entries (``GET
        /v1/drafts/openings``, page by page); none when the token may not read them (403) or
        the center has no drafts (404)."""
        out: list[Opening] = []
        after = -1
        while True:
            params = {"after": str(after), "limit": "1000"}
            response = _get(
                self._client, "v1/drafts/openings", "the drafts' openings", params=params,
                absent=(403, 404),
            )  # fmt: skip
            if response is None:
                return out
            page = response.json()
            for entry in page.get("entries", []):
                out.append(Opening.of(entry["opening"]))
            if page.get("next") is None:
                return out
            after = int(page["next"])


def check_loopback(url: str) -> str:
    """``url`` if it is an ``http://`` URL on this machine (127.0.0.0/8, ::1, localhost),
    else ``ValueError``: an alarm names sizes and evidence paths, and goes nowhere else."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or not host:
        raise ValueError(f"the webhook is an http:// URL on loopback, not {url!r}")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(
                f"the webhook's host {host!r} is not loopback (127.0.0.1, ::1 or localhost)"
            )
    return url


def post_webhook(url: str, payload: Mapping[str, Any], *, timeout: float = 5.0) -> str | None:
    """POST ``payload`` as JSON to the loopback ``url``; None, or why it failed."""
    try:
        response = httpx.post(check_loopback(url), json=dict(payload), timeout=timeout)
    except (httpx.HTTPError, ValueError) as error:
        return f"the webhook {url}: {error}"
    if response.status_code >= 300:
        return f"the webhook {url} answered {response.status_code}"
    return None


def report_body(
    alarm: MonitorAlarm, *, at: datetime, size: int, accused: str = CENTER
) -> dict[str, Any]:
    """The violation report (``POST /v1/reports``) for ``alarm``: whom it accuses (the
    center itself by default: every alarm is the center's doing — it signs the heads, serves
    the log and keeps the openings — so a rewrite, a rollback, a split view, an invalid
    entry or head under its signature, a withheld log and an opening that does not open are
    its breaches), what (the alarm's line), when (``at``), the entry it names (when the
    record of ``size`` entries holds it), and the evidence file's SHA-256 and name."""
    cites = [alarm.index] if alarm.index is not None and 0 <= alarm.index < size else []
    evidence = []
    if alarm.evidence is not None:
        path = Path(alarm.evidence)
        evidence.append(
            {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "name": path.name[:200]}
        )
    what = f"accord monitor: {alarm}"
    if len(what) > REPORT_TEXT_MAX:
        what = what[: REPORT_TEXT_MAX - 1] + "…"
    when = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "accused": accused,
        "what": what,
        "when": {"start": when, "end": None},
        "cites": cites,
        "evidence": evidence,
    }
