"""The operator's basemap (``accord serve --basemap``; :mod:`accord.center.basemap`): the archive
checked before it is served, each wrong file refused naming itself and what is wrong; its
bytes served by range to token holders only, any byte range the same bytes as the file's
(hypothesis), a range that cannot be served answered 416, never a 500."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pmtiles.reader import MemorySource, Reader
from pmtiles.tile import Compression, TileType, serialize_header

from accord.center.basemap.archive import HEADER_BYTES, MAX_METADATA_BYTES, open_archive
from accord.center.basemap.routes import MAX_RANGE_BYTES, span
from accord.errors import BasemapError
from support.basemap import Theater, write_basemap
from support.service import Service, served, settings_for

ARCHIVE = "/v1/basemap/archive.pmtiles"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write_basemap(tmp_path / "theater.pmtiles")


@pytest.fixture
def service(tmp_path: Path, archive: Path) -> Iterator[Service]:
    yield from served(settings_for(tmp_path, basemap=archive))


# --- the archive, checked -------------------------------------------------------------------


def test_a_written_archive_opens_with_its_bounds_zooms_and_plain_attribution(
    archive: Path,
) -> None:
    opened = open_archive(archive)
    assert opened.bounds == Theater().bounds
    assert (opened.min_zoom, opened.max_zoom) == (0, 12)
    assert opened.size == archive.stat().st_size
    assert opened.attribution == "Synthetic © test"  # the link's tag is gone
    assert opened.manifest()["url"] == ARCHIVE


def _header(path: Path) -> dict:
    return Reader(MemorySource(path.read_bytes())).header()  # type: ignore[no-any-return]


def _rewrite_header(path: Path, **fields: object) -> Path:
    data = path.read_bytes()
    header = {**_header(path), **fields}
    path.write_bytes(serialize_header(header) + data[HEADER_BYTES:])
    return path


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])


WRONG = {
    "not an archive": (
        lambda p: p.write_bytes(b"SQLite format 3\x00" + bytes(200)),
        "no PMTiles magic",
    ),
    "too short": (lambda p: p.write_bytes(b"PMTiles\x03"), "shorter than a PMTiles header"),
    "version 2": (lambda p: p.write_bytes(b"PMTiles\x02" + bytes(200)), "version 2, not 3"),
    "raster tiles": (lambda p: _rewrite_header(p, tile_type=TileType.PNG), "PNG, not vector tiles"),
    "brotli tiles": (
        lambda p: _rewrite_header(p, tile_compression=Compression.BROTLI),
        "compressed with BROTLI",
    ),
    "truncated": (_truncate, "past the file's end"),
    "bounds inverted": (
        lambda p: _rewrite_header(p, min_lon_e7=220_000_000, max_lon_e7=210_000_000),
        "not a box of longitudes and latitudes",
    ),
    "latitude past the pole": (
        lambda p: _rewrite_header(p, max_lat_e7=950_000_000),
        "not a box of longitudes and latitudes",
    ),
    "zooms inverted": (
        lambda p: _rewrite_header(p, min_zoom=9, max_zoom=3),
        "zooms run from 9 to 3",
    ),
    "root directory far away": (
        lambda p: _rewrite_header(p, root_offset=40),
        "root directory is not within the first 16384 bytes",
    ),
    "unknown compression byte": (
        lambda p: p.write_bytes(p.read_bytes()[:97] + b"\x09" + p.read_bytes()[98:]),
        "unknown compression or tile type",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_a_file_the_page_could_not_draw_is_refused_naming_it(archive: Path, case: str) -> None:
    spoil, says = WRONG[case]
    spoil(archive)
    with pytest.raises(BasemapError) as refused:
        open_archive(archive)
    assert str(archive) in str(refused.value)
    assert says in str(refused.value)


def test_another_schema_missing_files_and_folders_are_refused(tmp_path: Path) -> None:
    other = write_basemap(
        tmp_path / "omt.pmtiles", replace(Theater(), layers=("transportation", "waterway"))
    )
    with pytest.raises(
        BasemapError, match=r"layers \(transportation, waterway\) are not the Protomaps"
    ):
        open_archive(other)
    with pytest.raises(BasemapError, match="no such file"):
        open_archive(tmp_path / "absent.pmtiles")
    with pytest.raises(BasemapError, match="a folder"):
        open_archive(tmp_path)


def test_a_metadata_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    """Metadata that inflates past the bound: read no further than the bound."""
    bomb = {"attribution": "x" * (4 * MAX_METADATA_BYTES)}
    path = write_basemap(tmp_path / "bomb.pmtiles", replace(Theater(), extra=bomb))
    assert os.path.getsize(path) < MAX_METADATA_BYTES  # it is small on disk
    with pytest.raises(BasemapError, match="metadata is larger than"):
        open_archive(path)


def test_a_root_directory_that_does_not_read_is_refused(archive: Path) -> None:
    header = _header(archive)
    data = bytearray(archive.read_bytes())
    start = header["root_offset"]
    data[start : start + header["root_length"]] = gzip.compress(b"")[:2] + bytes(
        header["root_length"] - 2
    )
    archive.write_bytes(bytes(data))
    with pytest.raises(BasemapError, match="root directory does not read"):
        open_archive(archive)


# --- the archive, served --------------------------------------------------------------------


def test_the_manifest_says_what_the_page_draws_and_needs_a_token(
    service: Service, archive: Path
) -> None:
    for user in ("blue-officer", "observer", "hnc-notifier", "admin"):
        answer = service.get("/v1/basemap", user)
        assert answer.status_code == 200
        body = answer.json()["archive"]
        assert body["bounds"] == list(Theater().bounds)
        assert body["bytes"] == archive.stat().st_size
        assert (body["min_zoom"], body["max_zoom"]) == (0, 12)
        assert body["url"] == ARCHIVE
    for path in ("/v1/basemap", ARCHIVE):
        for headers in ({}, {"Authorization": "Bearer nonsense"}):
            refused = service.client.get(path, headers=headers | {"Range": "bytes=0-126"})
            assert refused.status_code == 401
            assert b"PMTiles" not in refused.content


def test_no_archive_no_basemap(tmp_path: Path) -> None:
    for service in served(settings_for(tmp_path)):
        assert service.get("/v1/basemap", "red-officer").json() == {"archive": None}
        missing = service.get(ARCHIVE, "red-officer", headers={"Range": "bytes=0-126"})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


def test_the_header_by_range_and_the_whole_file_without(service: Service, archive: Path) -> None:
    data = archive.read_bytes()
    head = service.get(ARCHIVE, "blue-officer", headers={"Range": "bytes=0-16383"})
    assert head.status_code == 206
    assert head.content == data[:16384]  # what pmtiles asks first: the header and root
    assert head.headers["content-range"] == f"bytes 0-{min(16384, len(data)) - 1}/{len(data)}"
    assert head.headers["accept-ranges"] == "bytes"
    assert head.headers["cache-control"] == "no-store"
    whole = service.get(ARCHIVE, "blue-officer")
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["etag"] == head.headers["etag"] == open_archive(archive).etag


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=st.integers(0, 20_000), length=st.integers(1, 20_000), form=st.sampled_from("ab-"))
def test_any_range_is_the_files_bytes(
    service: Service, archive: Path, first: int, length: int, form: str
) -> None:
    """The oracle is the file itself: ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` as RFC 9110
    §14.1.2 reads them, clipped to the end; or 416 when they start past it."""
    data = archive.read_bytes()
    size = len(data)
    header = {
        "a": f"bytes={first}-{first + length - 1}",
        "b": f"bytes={first}-",
        "-": f"bytes=-{length}",
    }[form]
    start, end = {
        "a": (first, min(first + length, size)),
        "b": (first, size),
        "-": (max(size - length, 0), size),
    }[form]
    answer = service.get(ARCHIVE, "red-officer", headers={"Range": header})
    if start >= size:
        assert answer.status_code == 416
        assert answer.headers["content-range"] == f"bytes */{size}"
        return
    assert answer.status_code == 206, answer.text
    assert answer.content == data[start:end]
    assert answer.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("bytes=0-1,5-6", "one range at a time"),
        (",".join(f"{i}-{i}" for i in range(0, 60, 2)).join(("bytes=", "")), "one range at a time"),
        ("bytes=9-3", "last byte is before its first"),
        ("bytes=-0", "an empty suffix"),
        ("bytes=-", "an empty suffix"),
        ("items=0-5", "not bytes=first-last"),
        ("bytes=0x10-20", "not bytes=first-last"),
        (f"bytes=0-{MAX_RANGE_BYTES}", None),  # clipped to the file: served
        ("bytes=99999999999999999999-", "not bytes=first-last"),
    ],
)
def test_a_range_that_cannot_be_served_is_416_naming_the_header(
    service: Service, archive: Path, value: str, says: str | None
) -> None:
    answer = service.get(ARCHIVE, "blue-officer", headers={"Range": value})
    if says is None:
        assert answer.status_code == 206
        assert answer.content == archive.read_bytes()
        return
    assert answer.status_code == 416, answer.text
    assert answer.json()["detail"].startswith("Range: ")
    assert says in answer.json()["detail"]
    assert b"PMTiles" not in answer.content


def test_a_range_longer_than_the_bound_is_416(tmp_path: Path) -> None:
    big = write_basemap(tmp_path / "big.pmtiles")
    with big.open("ab") as file:  # tile data past the directories' ends is still the file's
        file.write(bytes(MAX_RANGE_BYTES + 10))
    for service in served(settings_for(tmp_path, basemap=big)):
        answer = service.get(
            ARCHIVE, "blue-officer", headers={"Range": f"bytes=0-{MAX_RANGE_BYTES}"}
        )
        assert answer.status_code == 416
        assert "longer than" in answer.json()["detail"]
        ok = service.get(
            ARCHIVE, "blue-officer", headers={"Range": f"bytes=0-{MAX_RANGE_BYTES - 1}"}
        )
        assert ok.status_code == 206
        assert len(ok.content) == MAX_RANGE_BYTES


def test_a_replaced_file_is_checked_again_and_a_broken_one_is_503(
    service: Service, archive: Path, tmp_path: Path
) -> None:
    before = service.get("/v1/basemap", "blue-officer").json()["archive"]
    other = write_basemap(
        tmp_path / "other.pmtiles", replace(Theater(), bounds=(20.0, 24.0, 22.0, 26.0))
    )
    os.replace(other, archive)
    after = service.get("/v1/basemap", "blue-officer").json()["archive"]
    assert after["bounds"] == [20.0, 24.0, 22.0, 26.0] != before["bounds"]
    fresh = service.get(ARCHIVE, "blue-officer", headers={"Range": "bytes=0-126"})
    assert fresh.headers["etag"] == open_archive(archive).etag
    archive.write_bytes(b"not an archive any more, and longer than a header" * 4)
    for path in ("/v1/basemap", ARCHIVE):
        broken = service.get(path, "blue-officer", headers={"Range": "bytes=0-10"})
        assert broken.status_code == 503
        assert str(archive) not in broken.text  # the operator's path stays in the log
    archive.unlink()
    gone = service.get(ARCHIVE, "blue-officer", headers={"Range": "bytes=0-10"})
    assert gone.status_code == 503


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.one_of(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        st.text("bytes=-,0123456789 ", max_size=40),
    )
)
def test_any_range_header_is_answered_never_a_500(service: Service, value: str) -> None:
    """A ``Range`` header of any printable text: a range (206), a refusal naming it (416), or
    a value too long for the header's bound (422) — never a 500, never more than asked."""
    answer = service.get(ARCHIVE, "blue-officer", headers={"Range": value})
    assert answer.status_code in (206, 416, 422), (value, answer.status_code, answer.text)
    if answer.status_code == 206:
        first, last = span(value, int(answer.headers["content-range"].rsplit("/", 1)[1]))
        assert len(answer.content) == last - first + 1
    else:
        assert answer.headers["content-type"] == "application/problem+json"


def test_a_hostile_attribution_reaches_the_page_as_plain_text(tmp_path: Path) -> None:
    """The attribution goes into Leaflet's attribution control, which takes HTML: the server
    strips tags, the page escapes what is left (map.js ``detailed``)."""
    hostile = '<img src=x onerror="alert(1)">© <b>Maps</b> <script'
    path = write_basemap(tmp_path / "h.pmtiles", replace(Theater(), attribution=hostile))
    assert open_archive(path).attribution == "© Maps <script"
    long = write_basemap(tmp_path / "l.pmtiles", replace(Theater(), attribution="a " * 500))
    assert len(open_archive(long).attribution) <= 200
