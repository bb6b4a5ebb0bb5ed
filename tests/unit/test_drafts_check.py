"""A draft's checks (``accord.center.drafts.service.check_draft``, pure): every good draft
comes back exactly as given (the oracle: the input itself), a circle as the 64-vertex polygon
a device draws included; any JSON value whatever is either a draft or an ``InputError``
naming fields — never another exception — and a vertex past the operation area's limit is
named."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.center.drafts.service import check_draft, check_key
from accord.errors import InputError
from support.jig import AGREEMENT

NOW = datetime(2026, 9, 21, 16, tzinfo=UTC)
UID = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-",
              min_size=1, max_size=100)  # fmt: skip
lons = st.floats(min_value=20.0, max_value=22.0, allow_nan=False).map(lambda x: round(x, 6))
lats = st.floats(min_value=24.0, max_value=26.0, allow_nan=False).map(lambda x: round(x, 6))
lines = st.lists(st.tuples(lons, lats).map(list), min_size=2, max_size=40, unique_by=tuple)


def circle(lon: float, lat: float, r: float, n: int = 64) -> dict[str, Any]:
    ring = [[lon + r * math.cos(2 * math.pi * k / n), lat + r * math.sin(2 * math.pi * k / n)]
            for k in range(n)]  # fmt: skip
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@settings(max_examples=150, deadline=None)
@given(
    name=st.text(min_size=1, max_size=200).filter(lambda s: s.strip() and s.isprintable()),
    line=lines,
    uid=UID,
    callsign=st.none()
    | st.text(min_size=1, max_size=200).filter(lambda s: s.strip() and s.isprintable()),
    minutes=st.integers(min_value=-100_000, max_value=5),
)
def test_a_good_draft_comes_back_as_given(
    name: str, line: list[list[float]], uid: str, callsign: str | None, minutes: int
) -> None:
    drawn = datetime.fromtimestamp(NOW.timestamp() + minutes * 60, UTC)
    body = {
        "name": name,
        "shape": "freehand",
        "geometry": {"type": "LineString", "coordinates": line},
        "device": {"uid": uid, "callsign": callsign},
        "drawn_at": drawn.isoformat(),
    }
    draft = check_draft(AGREEMENT, body, now=NOW)
    assert draft.as_json() == body | {"drawn_at": drawn.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert check_key(uid) == uid


def test_a_devices_circle_and_the_vertex_limit() -> None:
    most = AGREEMENT.limits.operation_vertices
    base = {"name": "c", "shape": "circle", "device": {"uid": "d", "callsign": None},
            "drawn_at": "2026-09-21T15:00:00Z"}  # fmt: skip
    assert check_draft(AGREEMENT, base | {"geometry": circle(21.0, 25.0, 0.01)}, now=NOW)
    assert check_draft(AGREEMENT, base | {"geometry": circle(21.0, 25.0, 0.05, most - 1)}, now=NOW)
    with pytest.raises(InputError) as refused:
        check_draft(AGREEMENT, base | {"geometry": circle(21.0, 25.0, 0.05, most)}, now=NOW)
    (issue,) = refused.value.issues
    assert issue.field == "geometry.coordinates" and f"at most {most}" in issue.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values, "shape": st.sampled_from(["freehand", "circle", "x"]) | json_values,
        "geometry": json_values, "device": json_values, "drawn_at": json_values,
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(body=fields | json_values)
def test_any_json_is_a_draft_or_an_input_error_naming_fields(body: Any) -> None:
    issues: tuple[Any, ...] = ()
    try:
        check_draft(AGREEMENT, body, now=NOW)
    except InputError as refused:
        issues = refused.issues or (None,)
    assert all(issue is not None and issue.field for issue in issues), issues
