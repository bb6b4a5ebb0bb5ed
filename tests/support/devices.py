"""Positions that carry a TAK device, and a member's ``device-reports`` key to sign them
(issue 21): what the tests of device positions and of hidden changes send."""

from __future__ import annotations

from typing import Any

from accord.record.canonical import encode_base64
from accord.record.keys import PrivateKey
from accord.record.registry import DEVICE_REPORTS
from support.offices import root_of
from support.service import Service

__all__ = ["by_key", "device_position", "gateway_key"]


def device_position(uid: str, *, party: str = "blue", disclosure: str = "shared") -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [21.25, 25.02]},
        "properties": {
            "kind": "position",
            "party": party,
            "disclosure": disclosure,
            "name": "Alpha 1",
            "uncertainty_m": 60,
            "valid_from": "2026-09-21T15:59:00Z",
            "valid_to": "2026-09-21T16:05:00Z",
            "device": {"uid": uid, "callsign": "ALPHA-1"},
            "course_deg": 271.5,
            "speed_mps": 3.25,
            "reported_at": "2026-09-21T15:59:30Z",
        },
    }


def gateway_key(service: Service, user: str = "blue-officer") -> PrivateKey:
    """A device-reports key for ``user``, registered by its member's root."""
    assert service.offices is not None
    member = service.offices.users[user]
    key = PrivateKey.from_seed(member, bytes([42] * 32))
    body = {"user": user, "public_key": encode_base64(key.public.raw), "purposes": [DEVICE_REPORTS]}
    path = "/v1/keys/registrations"
    headers = service.offices.headers(user, "POST", path, body, key=root_of(member))
    answer = service.post(path, user, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return key


def by_key(
    service: Service, key: PrivateKey, method: str, path: str, body: dict[str, Any] | None
) -> Any:
    assert service.offices is not None
    headers = {
        **service.auth("blue-officer"),
        **service.offices.headers("blue-officer", method, path, body or {}, key=key),
    }
    return service.client.request(method, path, json=body, headers=headers)
