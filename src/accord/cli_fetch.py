"""``accord record fetch``: a party takes the record home from the service, to verify it on
its own machine with ``accord verify`` — trusting nothing the service says about it.

The bearer token is read from the environment (``ACCORD_TOKEN``) or a file, never from the
command line, where other users of the machine could read it in the process list. The
output is the JSON-lines export ``accord verify`` reads: every entry, then the latest signed
head. The service's ``/v1/keys`` is written beside it only on request (``--keys-out``): a
careful party verifies with the key ring it registered itself, not one the service hands
out at the same time as the log it is checking.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.cli_common import fail

if TYPE_CHECKING:
    import httpx

__all__ = ["TOKEN_ENV", "fetch_export", "read_token", "record_fetch"]

TOKEN_ENV = "ACCORD_TOKEN"


def read_token(token_file: Path | None) -> str:
    """The bearer token from ``token_file``, else from ``$ACCORD_TOKEN`` (never from the
    command line); exits with status 2 naming what is missing."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise fail(f"cannot read the token file: {exc.strerror}") from None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise fail(f"no token: set {TOKEN_ENV} or give --token-file")
    return token


def fetch_export(client: httpx.Client, out: Path) -> tuple[int, dict[str, Any]]:
    """Write the export of the service's record through ``client`` (an ``httpx.Client``
    with the base URL and the bearer token); the number of entries and the head."""
    head_response = client.get("/v1/record/head")
    head_response.raise_for_status()
    head: dict[str, Any] = head_response.json()
    lines: list[str] = []
    start = 0
    while start < head["size"]:
        page = client.get("/v1/record/entries", params={"start": start, "end": head["size"]})
        page.raise_for_status()
        body = page.json()
        if body["end"] <= start:
            raise ValueError(f"the service returned no entries from {start}")
        lines += [json.dumps({"i": e["index"], "data": e["data"]}) for e in body["entries"]]
        start = body["end"]
    signed = {k: head[k] for k in ("origin", "size", "root", "timestamp", "note")}
    lines.append(json.dumps({"head": signed}))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1, signed


def record_fetch(
    url: Annotated[str, typer.Argument(help="The service, e.g. http://127.0.0.1:8000")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The export to write (JSON lines).")],
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help=f"File holding the bearer token (else ${TOKEN_ENV})."),
    ] = None,
    keys_out: Annotated[
        Path | None, typer.Option("--keys-out", help="Also write the service's KEYS.json here.")
    ] = None,
) -> None:
    """Download the whole record (entries and the latest signed head) for ``accord verify``."""
    import httpx

    token = read_token(token_file)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=60.0) as client:
            count, head = fetch_export(client, out)
            if keys_out is not None:
                ring = client.get("/v1/keys")
                ring.raise_for_status()
                keys_out.write_text(json.dumps(ring.json(), indent=2) + "\n", encoding="utf-8")
    except httpx.HTTPStatusError as exc:
        status, path = exc.response.status_code, exc.request.url.path
        raise fail(f"the service answered {status} for {path}") from None
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise fail(f"cannot fetch the record: {exc}") from None
    sys.stderr.write(f"{count} entries and the head of size {head['size']} written to {out}\n")
