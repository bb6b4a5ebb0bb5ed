"""The record as C2SP tlog-tiles over HTTP: a reader rebuilds the signed root from the served
tiles as the log grows across tile boundaries, every tile and bundle read with a reader's
token and answered ``Cache-Control: private``; and no entry over 64 KiB can be made."""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.record import merkle
from accord.record.canonical import decode_base64
from accord.record.note import SignedHead, verify_checkpoint
from accord.record.tiles import MAX_ENTRY_BYTES, TiledLog, edge_tiles, parse_bundle
from support.failures import assert_problem
from support.growing import grow
from support.operations import operation
from support.service import Service, center_of, ring_of

IMMUTABLE = "private, max-age=31536000, immutable"


def checkpoint(service: Service, user: str = "observer") -> SignedHead:
    response = service.get("/tlog/checkpoint", user)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-cache"
    ring = ring_of(service)
    log_signed(response.text, name=ring.center.name, key=ring.center.raw)
    return verify_checkpoint(response.text, origin=ring.center.name, center=ring.center)


def log_signed(note: str, *, name: str, key: bytes) -> None:
    """c2sp.org/tlog-tiles: the checkpoint "MUST carry at least one Ed25519 signature by the
    log" — read here straight from c2sp.org/signed-note, not with the project's note.py: a
    line "— <name> <base64(key ID || signature)>", key ID = SHA-256(name || 0x0A || 0x01 ||
    key)[:4], the signature over the text before the blank line, newline included."""
    body, _, lines = note.partition("\n\n")
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + key).digest()[:4]
    for line in lines.splitlines():
        who, _, blob = line.removeprefix("\u2014 ").partition(" ")
        raw = base64.b64decode(blob)
        if who == name and raw[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key).verify(raw[4:], (body + "\n").encode())
            return
    raise AssertionError(f"no Ed25519 log signature in {note!r}")


def fetcher(service: Service, user: str, seen: list[str]) -> Any:
    def fetch(path: str) -> bytes:
        response = service.get(f"/tlog/{path}", user)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["cache-control"] == IMMUTABLE
        seen.append(path)
        return response.content

    return fetch


def test_a_reader_rebuilds_the_signed_root_from_the_tiles(service: Service) -> None:
    center = center_of(service)
    empty = checkpoint(service)
    assert empty.size == 0 and empty.root == merkle.EMPTY_ROOT
    previous = empty
    cache: dict[str, bytes] = {}
    for size in (1, 255, 256, 257, 600):
        grow(center, size)
        head = checkpoint(service, "red-officer")
        assert head.size == size
        seen: list[str] = []
        log = TiledLog.open(fetcher(service, "blue-officer", seen), size=size, root=head.root)
        assert sorted(seen) == sorted(t.path for t in edge_tiles(size))
        log.check_consistency(old_size=previous.size, old_root=previous.root)
        served = service.get("/v1/record/entries", "observer", params={"start": 0, "end": size})
        pages = [decode_base64(e["data"], what="leaf") for e in served.json()["entries"]]
        tiled = [data for _, data in log.entries(0, min(size, 256))]
        assert tiled == pages[: len(tiled)]
        again = TiledLog.open(
            fetcher(service, "observer", []), size=size, root=head.root, cache=cache
        )
        assert [d for _, d in again.entries(previous.size)][-1] == log.entries(size - 1).__next__()[
            1
        ]
        previous = head
    # A full tile never changes: read at 256 and at 600 it is the same bytes.
    assert service.get("/tlog/tile/0/000", "observer").content == cache["tile/0/000"]
    bundle = service.get("/tlog/tile/entries/001.p/88", "observer").content
    assert len(parse_bundle(bundle, width=88)) == 88


def test_tiles_are_read_like_the_record(service: Service) -> None:
    grow(center_of(service), 3)
    for path in ("/tlog/checkpoint", "/tlog/tile/0/000.p/3", "/tlog/tile/entries/000.p/3"):
        assert_problem(service.client.get(path), 401)
        assert_problem(service.get(path, "hnc-notifier"), 403)  # as /v1/record
        assert service.get(path, "observer").status_code == 200
    for path in (
        "/tlog/tile/0/000.p/4",  # beyond the log's size
        "/tlog/tile/0/000",
        "/tlog/tile/1/000.p/1",
        "/tlog/tile/entries/001.p/1",
        "/tlog/tile/0/0.p/3",  # malformed
        "/tlog/tile/64/000",
        "/tlog/tile/0/000.p/03",
        "/tlog/tile/nothing",
    ):
        body = assert_problem(service.get(path, "observer"), 404)
        assert body["type"].endswith("not-found"), body


def _ring(vertices: int, digits: int) -> list[list[float]]:
    ring = [
        [
            round(21.3 + 0.01 * math.cos(2 * math.pi * k / vertices), digits),
            round(25.3 + 0.01 * math.sin(2 * math.pi * k / vertices), digits),
        ]
        for k in range(vertices)
    ]
    return [*ring, ring[0]]


def _position(disclosure: str, vertices: int, digits: int = 15) -> dict[str, Any]:
    """A ring of ``vertices`` (the agreement allows 2,000), each coordinate to ``digits``."""
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [_ring(vertices, digits)]},
        "properties": {
            "kind": "position",
            "name": "a long line of trenches",
            "disclosure": disclosure,
            "party": "blue",
            "uncertainty_m": 50,
            "valid_from": "2026-09-21T00:00:00Z",
            "valid_to": "2026-09-25T00:00:00Z",
        },
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_entry_over_64_kib_can_be_declared(service: Service) -> None:
    """A shared declaration goes into the record in clear: one too large for an entry is
    refused naming its coordinates, and nothing is written; a hidden one of the same size is
    a fixed-size commitment in the record, and is taken."""
    before = checkpoint(service).size
    body = assert_problem(
        service.post("/v1/declarations", "blue-officer", json=_position("shared", 1999)), 422
    )
    assert [e["field"] for e in body["errors"]] == ["geometry.coordinates"], body
    assert "64 KiB" in body["errors"][0]["message"]
    assert checkpoint(service).size == before
    hidden = service.post("/v1/declarations", "blue-officer", json=_position("center", 1999))
    assert hidden.status_code == 201, hidden.text
    shared = service.post("/v1/declarations", "blue-officer", json=_position("shared", 1999, 7))
    assert shared.status_code == 201, shared.text
    head = checkpoint(service)
    log = TiledLog.open(fetcher(service, "observer", []), size=head.size, root=head.root)
    largest = max(len(data) for _, data in log.entries())
    assert 30_000 < largest <= MAX_ENTRY_BYTES


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_entry_over_64_kib_can_be_proposed(service: Service) -> None:
    """An operation's feature is in clear in its proposal's entry: refused over its budget,
    naming the coordinates, with nothing written."""
    confirm = {"condition": "aid-delivered-east-city"}  # the phase that permits op-s1's kind
    assert service.post("/v1/phases/confirm", "hnc-notifier", json=confirm).status_code == 201
    before = checkpoint(service).size
    body = operation("op-s1")
    body["geometry"] = {"type": "Polygon", "coordinates": [_ring(1999, 15)]}
    refused = assert_problem(service.post("/v1/operations", "blue-officer", json=body), 422)
    assert [e["field"] for e in refused["errors"]] == ["geometry.coordinates"], refused
    assert checkpoint(service).size == before
    body["geometry"] = {"type": "Polygon", "coordinates": [_ring(200, 15)]}
    made = service.post("/v1/operations", "blue-officer", json=body)
    assert made.status_code == 201, made.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_level_two_tiles_across_256_times_256(service: Service) -> None:
    """Sizes around 65,536, where the level-1 tile fills and a level-2 tile appears: the leaves
    go straight into the center's log (what the tiles serve does not read them as entries),
    and a reader rebuilds each signed root from the served tiles, consistent with the last."""
    center = center_of(service)
    previous = checkpoint(service)
    for size in (65_535, 65_536, 65_537, 65_536 + 256 + 2):
        with center.writing() as unit:
            log = unit.ledger.log
            log.append_many([b"leaf %d" % i for i in range(log.size, size)])
        head = checkpoint(service)
        assert head.size == size
        seen: list[str] = []
        log_ = TiledLog.open(fetcher(service, "observer", seen), size=size, root=head.root)
        assert sorted(seen) == sorted(t.path for t in edge_tiles(size))
        log_.check_consistency(old_size=previous.size, old_root=previous.root)
        if size >= 65_536:
            assert log_.node(16, 0) == log_.root_at(65_536)  # from the level-2 tile
        previous = head
    assert [d for _, d in log_.entries(size - 3)] == [b"leaf %d" % i for i in range(size - 3, size)]
    gzip_ok = {**service.auth("observer"), "Accept-Encoding": "gzip"}
    zipped = service.client.get("/tlog/tile/entries/255", headers=gzip_ok)
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"]
    assert parse_bundle(zipped.content, width=256)[0] == b"leaf %d" % (255 * 256)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_old_entry_over_64_kib_is_named_and_its_hashes_still_served(service: Service) -> None:
    """A log written before the limit may hold a larger entry: its bundle is a 500 naming
    it (the server's problem, not the reader's), the hash tiles still serve."""
    center = center_of(service)
    grow(center, 2)
    big = b"x" * (MAX_ENTRY_BYTES + 1)
    with center.writing() as unit:
        unit.ledger.log.storage.append([(2, big, merkle.leaf_hash(big))], [])  # as of old
    body = assert_problem(service.get("/tlog/tile/entries/000.p/3", "observer"), 500)
    assert "65535" in body["detail"] and "64 KiB" in body["detail"], body
    head = checkpoint(service)
    log = TiledLog.open(fetcher(service, "observer", []), size=3, root=head.root)
    assert log.leaf_hashes(2, 3) == [merkle.leaf_hash(big)]
