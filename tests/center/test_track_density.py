"""A track batch is bounded by the work it implies without dropping another party's alerts:
an officer's batch that packs its own party's aircraft past ``limits.own_track_conflicts``
(or so densely that the detector would examine more than 40 times as many of their pairs) is
refused whole, naming ``tracks``, before the detector lists a pair of it; conflicts with
another party's aircraft never count against anyone; the center's feed is not held to it;
re-reporting aircraft already packed passes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accord.airspace.detect import States
from accord.center.airspace import findings, tracks
from accord.chrono import format_instant
from support.jig import NOW
from support.service import Service, started_with_limits
from support.tracks import post, report


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[Service]:
    """A service where a party's own aircraft may stand in 10 losses of separation."""
    yield from started_with_limits(tmp_path, "{own_track_conflicts: 10}")


def packed(
    party: str, n: int, *, first: int = 0, seed: int = 1, **over: Any
) -> list[dict[str, Any]]:
    """``n`` of ``party``'s aircraft within about 1 km and 600 ft of (25.0, 21.0): every
    pair has lost separation."""
    rng = random.Random(seed)
    return [
        report(
            f"{party[0]}{k}", party, 25.0 + rng.uniform(-0.005, 0.005),
            21.0 + rng.uniform(-0.005, 0.005), alt_ft=30000 + rng.uniform(-300, 300),
            track_deg=rng.uniform(0, 360), gs_kt=rng.uniform(150, 450), **over,
        )
        for k in range(first, first + n)
    ]  # fmt: skip


def ids(service: Service, user: str) -> set[str]:
    return {t["id"] for t in service.get("/v1/tracks", user).json()["items"]}


def refused(answer: Any, words: str) -> None:
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["errors"]
    assert problem["field"] == "tracks" and words in problem["message"], problem


def test_a_party_packing_its_own_aircraft_is_refused_before_any_pair_is_listed(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    examined: list[int] = []
    detect = tracks.detect_conflicts

    def counted(states: States, *args: Any) -> Any:
        examined.append(len(states))
        return detect(states, *args)

    for module in (tracks, findings):  # the density check, and the pass
        monkeypatch.setattr(module, "detect_conflicts", counted)
    assert post(service, "blue-officer", *packed("blue", 3)).status_code == 200
    blue_alerts = service.get("/v1/alerts", "blue-officer").json()["items"]
    examined.clear()
    # 4,000 of red's aircraft in one spot (8 million pairs): refused whole, at once
    answer = post(service, "red-officer", *packed("red", 4000))
    refused(answer, "examine more than 2000000 of their pairs")
    assert examined == []  # the detector never saw it
    assert ids(service, "red-officer") == {"b0", "b1", "b2"}  # nothing of it was stored
    assert service.get("/v1/alerts", "blue-officer").json()["items"] == blue_alerts


def test_only_a_party_s_own_pairs_count_and_the_feed_is_not_held(capped: Service) -> None:
    red = packed("red", 5)  # 10 pairs: the limit
    answer = post(capped, "red-officer", *red)
    assert answer.status_code == 200 and answer.json()["raised_count"] == 10, answer.text
    # one more of red's own in the spot: 15 > 10, refused, nothing applied
    refused(post(capped, "red-officer", *packed("red", 1, first=5, seed=2)), "15 predicted")
    assert ids(capped, "red-officer") == {f"r{k}" for k in range(5)}
    # blue packs 5 of its own there too: 10 of its own pairs, and 25 with red's aircraft,
    # which count against nobody: every one is alerted to both
    answer = post(capped, "blue-officer", *packed("blue", 5, seed=3))
    assert answer.status_code == 200 and answer.json()["raised_count"] == 35, answer.text
    assert len(capped.get("/v1/alerts", "red-officer").json()["items"]) == 35
    # the center's feed reports three more of red's aircraft there: not held (red: 28 pairs)
    feed = post(capped, "admin", *packed("red", 3, first=10, seed=4))
    assert feed.status_code == 200, feed.text
    assert len(capped.get("/v1/alerts", "observer").json()["items"]) == 28 + 10 + 8 * 5
    # red reports its five again a second later: no pair added, so it passes
    later = format_instant(NOW + timedelta(seconds=1))
    again = post(capped, "red-officer", *(dict(one, time=later) for one in red))
    assert again.status_code == 200, again.text
    # adding one more still does not
    refused(post(capped, "red-officer", *packed("red", 1, first=20, seed=5)), "at most 10")
    assert len(capped.get("/v1/alerts", "blue-officer").json()["items"]) == 10 + 8 * 5
