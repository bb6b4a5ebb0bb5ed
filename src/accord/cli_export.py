"""``accord export``: the world as a party may see it, as KML, KMZ or GeoJSON, for Google
Earth, QGIS or any GIS.

Two sources, one drawing (:mod:`accord.kml.write`):

* ``--center URL``: the service's own answer for the token's user — ``/v1/world.kml`` or
  ``/v1/world.kmz`` as it is, or ``/v1/world``'s pages joined into one FeatureCollection.
  The token comes from ``$ACCORD_TOKEN`` or ``--token-file``, never from the command line.
* ``--agreement A --world W [--as PARTY]``: a world file drawn here, cut for ``PARTY`` by the
  rule ``accord check --as`` uses (:func:`accord.cli_common.visible`; without ``--as``, the
  center's view: everything); the agreement's designated areas drawn too. A file has no
  record, so its placemarks carry no record index and its operations no state.

Exit 0 when the file is written, 2 on bad input or a refusal of the service (the message on
stderr, never a traceback).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.cli_common import fail, visible
from accord.cli_fetch import TOKEN_ENV, read_token
from accord.errors import AccordError
from accord.kml.write import (
    Document,
    Placemark,
    area_placemark,
    feature_placemarks,
    write_kml,
    write_kmz,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["ExportFormat", "export", "fetch_world", "render_world"]

_PAGE = 10_000
"""The page ``--center`` asks for (``/v1/world``'s largest)."""


class ExportFormat(StrEnum):
    kml = "kml"
    kmz = "kmz"
    geojson = "geojson"


def _next_after(response: httpx.Response) -> str | None:
    following = response.links.get("next", {}).get("url")
    if following is None:
        return None
    import httpx

    value = httpx.URL(following).params.get("after")
    return None if value is None else str(value)


def fetch_world(
    client: httpx.Client, fmt: ExportFormat, after: str | None = None
) -> tuple[bytes, str | None]:
    """The export of the service's world through ``client`` (an ``httpx.Client`` with the
    base URL and the bearer token); and, for KML or KMZ, the ``after`` of the declarations
    that did not fit in one answer (None: all did), which ``after`` asks for next. GeoJSON
    follows every page."""
    if fmt is not ExportFormat.geojson:
        params: dict[str, Any] = {"limit": _PAGE} | ({"after": after} if after else {})
        answer = client.get(f"/v1/world.{fmt.value}", params=params)
        answer.raise_for_status()
        return answer.content, _next_after(answer)
    features: list[Any] = []
    while True:
        page_params = {"limit": _PAGE} | ({"after": after} if after else {})
        answer = client.get("/v1/world", params=page_params)
        answer.raise_for_status()
        page = answer.json()
        features += page["features"]
        following = page.get("next")
        if following is None:
            break
        if following == after:
            raise ValueError("the service returned the same page twice")
        after = str(following)
    collection = {"type": "FeatureCollection", "features": features}
    return (json.dumps(collection, ensure_ascii=False) + "\n").encode("utf-8"), None


def render_world(
    agreement_path: Path, world_path: Path, viewer: str | None, fmt: ExportFormat
) -> bytes:
    """The world file drawn as ``viewer`` may see it (None: the center, everything), after
    it was validated against the agreement (an :class:`~accord.errors.InputError` names the
    feature and field at fault)."""
    from accord.agreement import load_agreement
    from accord.world import load_world

    agreement = load_agreement(agreement_path)
    if viewer is not None and viewer not in agreement.party_ids:
        raise fail(f"--as: unknown party {viewer!r}")
    world = load_world(world_path, agreement)
    raw = json.loads(world_path.read_text(encoding="utf-8"))  # valid: load_world read it
    shown: list[dict[str, Any]] = []
    for feature in raw["features"]:
        obj = world[str(feature["properties"]["id"])]
        if not visible(obj, viewer):
            continue
        props = feature["properties"] | {
            "declared_by": obj.declared_by,
            "disclosure": obj.disclosure.value,
        }
        shown.append(feature | {"properties": props})
    if fmt is ExportFormat.geojson:
        collection = {"type": "FeatureCollection", "features": shown}
        return (json.dumps(collection, ensure_ascii=False) + "\n").encode("utf-8")
    marks: list[Placemark] = [
        area_placemark(a.id, a.name, a.polygon, a.restricted_operators, a.exempt_missions)
        for a in agreement.designated_areas
    ]
    for feature in shown:
        marks += feature_placemarks(feature, reader=viewer)
    who = viewer or "the center"
    lines = (f"as {who} may see it, drawn from {world_path.name}",)
    kml = write_kml(Document(f"Accord: {agreement.title}", marks, lines))
    return write_kmz(kml) if fmt is ExportFormat.kmz else kml


def export(
    out: Annotated[Path, typer.Option("-o", "--out", help="The file to write.")],
    fmt: Annotated[ExportFormat, typer.Option("-f", "--format")] = ExportFormat.kml,
    center: Annotated[
        str | None,
        typer.Option("--center", help="The service, e.g. http://127.0.0.1:8000 (its answer)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help=f"File holding the bearer token (else ${TOKEN_ENV})."),
    ] = None,
    agreement: Annotated[
        Path | None, typer.Option("--agreement", "-a", help="Agreement file (YAML).")
    ] = None,
    world: Annotated[Path | None, typer.Option("--world", help="A world file (GeoJSON).")] = None,
    as_party: Annotated[
        str | None,
        typer.Option("--as", help="Draw the world file as this party may see it."),
    ] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", help="KML or KMZ from --center: the page after this id."),
    ] = None,
) -> None:
    """Write the world as a party may see it — KML, KMZ or GeoJSON — from the service
    (``--center``) or from a world file (``--agreement`` and ``--world``)."""
    local = agreement is not None or world is not None
    if (center is None) == (not local):
        raise fail("give either --center, or --agreement and --world")
    if center is None:
        if agreement is None or world is None:
            raise fail("a world file needs both --agreement and --world")
        if after is not None:
            raise fail("--after pages the service's answer, not a world file")
        try:
            body = render_world(agreement, world, as_party, fmt)
        except AccordError as error:
            raise fail(error) from None
        following = None
    else:
        if as_party is not None:
            raise fail("--as draws a world file; the service draws what the token's user sees")
        if after is not None and fmt is ExportFormat.geojson:
            raise fail("--after: GeoJSON from the service holds every page already")
        body, following = _from_center(center, token_file, fmt, after)
    try:
        out.write_bytes(body)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from None
    sys.stderr.write(f"{len(body)} bytes of {fmt.value} written to {out}\n")
    if following is not None:
        sys.stderr.write(
            f"accord: more declarations than one answer draws: the file ends at {following}; "
            f"the next with --after {following} (GeoJSON holds them all in one file)\n"
        )


def _from_center(
    url: str, token_file: Path | None, fmt: ExportFormat, after: str | None
) -> tuple[bytes, str | None]:
    import httpx

    token = read_token(token_file)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=120.0) as client:
            return fetch_world(client, fmt, after)
    except httpx.HTTPStatusError as exc:
        status, path = exc.response.status_code, exc.request.url.path
        raise fail(f"the service answered {status} for {path}") from None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise fail(f"cannot fetch the world: {exc}") from None
