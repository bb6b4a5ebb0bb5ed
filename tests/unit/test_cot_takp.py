"""TAK protocol negotiation (TAK's protocol.txt): the server offers XML only; a client's
request for protobuf is refused, one for XML accepted, each answered under its own uid."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from accord.cot import (
    XML,
    parse_event,
    protocol_response,
    protocol_support,
    requested_version,
    write_event,
)
from support.cot import T0

# the request as protocol.txt shows it (single quotes, whitespace, its ce of 999999)
REQUEST = b"""<?xml version='1.0' encoding='UTF-8'?>
<event version='2.0' uid='protouid' type='t-x-takp-q' time='2026-09-20T10:00:01Z'
  start='2026-09-20T10:00:01Z' stale='2026-09-20T10:01:01Z' how='m-g'>
  <point lat='0.0' lon='0.0' hae='0.0' ce='999999' le='999999'/>
  <detail>
    <TakControl>
      <TakRequest version='%d'/>
    </TakControl>
  </detail>
</event>"""


def test_the_offer_is_xml_only() -> None:
    offer = protocol_support(uid="accord-takp-1", at=T0)
    root = ET.fromstring(write_event(offer))
    assert root.get("type") == "t-x-takp-v" and root.get("uid") == "accord-takp-1"
    versions = [e.get("version") for e in root.iterfind("detail/TakControl/TakProtocolSupport")]
    assert versions == ["0"]
    assert parse_event(write_event(offer)).detail.takcontrol is not None


@pytest.mark.parametrize(("version", "status"), [(1, "false"), (0, "true"), (7, "false")])
def test_a_request_is_answered_under_its_uid(version: int, status: str) -> None:
    request = parse_event(REQUEST % version)
    assert request.point.ce is None  # 999999 reads as unknown
    assert requested_version(request) == version
    answer = protocol_response(request, at=T0)
    root = ET.fromstring(write_event(answer))
    assert (root.get("type"), root.get("uid")) == ("t-x-takp-r", "protouid")
    response = root.find("detail/TakControl/TakResponse")
    assert response is not None and response.get("status") == status
    assert parse_event(write_event(answer)) == answer


def test_other_events_are_no_requests() -> None:
    offer = protocol_support(uid="p", at=T0)
    assert requested_version(offer) is None
    with pytest.raises(ValueError, match="t-x-takp-q"):
        protocol_response(offer, at=T0)
    assert XML == 0
