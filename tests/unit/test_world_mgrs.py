"""A point of the declared world typed as ``properties.mgrs``: read as the square's centre
with the uncertainty widened to cover the square; refused naming the feature and
``properties.mgrs`` when malformed, when a geometry is given too, or for a kind without a
point — by :func:`accord.world.parse_world` (the command line's world files) and by
:func:`accord.world.resolve_mgrs` (what the center stores)."""

from __future__ import annotations

import json
import math

import pytest

from accord.coordinates import parse_point
from accord.errors import WorldError
from accord.geo import GEOD
from accord.world import Position, ProtectedSite, load_world, parse_world, resolve_mgrs
from support.features import collection, feature, refused, where


def typed(kind: str, fid: str, reference: str, **props: object) -> dict[str, object]:
    """A valid feature of ``kind`` whose point is the MGRS ``reference``, no geometry."""
    out = feature(kind, fid, mgrs=reference, **props)
    del out["geometry"]
    return out


@pytest.mark.parametrize("kind", ["position", "protected_site", "operation"])
def test_a_point_kind_reads_its_mgrs_as_the_squares_centre(agreement, kind) -> None:
    (obj,) = parse_world(collection(typed(kind, "p1", "34R EN 5045 6504")), agreement)
    point = parse_point("34REN50456504")
    assert (obj.geometry.x, obj.geometry.y) == (point.lon, point.lat)
    # 10 m square: half-diagonal 7.07… m on the ground, rounded up to the centimetre
    assert obj.uncertainty_m == math.ceil(point.uncertainty_m * 100) / 100 == 7.08


def test_the_widened_uncertainty_covers_the_whole_square(agreement) -> None:
    (obj,) = parse_world(
        collection(typed("position", "p1", "34REN504650", uncertainty_m=25)), agreement
    )
    assert isinstance(obj, Position)
    assert obj.uncertainty_m == pytest.approx(25 + 100 / math.sqrt(2) / 0.9996, abs=0.01)
    assert obj.uncertainty_m >= 25 + 100 / math.sqrt(2) / 0.9996
    corner = parse_point("34REN5040065000")  # the square's south-west metre
    _, _, far = GEOD.inv(obj.geometry.x, obj.geometry.y, corner.lon, corner.lat)
    assert far <= obj.uncertainty_m - 25


@pytest.mark.parametrize(
    ("reference", "says"),
    [
        ("34R FH 12345 67890", "does not lie in latitude band R"),
        ("34REN504565040", "cannot be split"),
        ("25.3456, 21.7654", "is an MGRS reference"),
        ("34REN\n5045565040", "one line of text"),
        (34, "must be a string"),
        ("34REN", "limits.uncertainty_m"),  # 100 km square: 70 km from its centre
    ],
)
def test_a_bad_reference_is_refused_naming_the_feature_and_field(
    agreement, reference, says
) -> None:
    error = refused(agreement, feature("position", "ok"), typed("position", "p9", reference))
    assert where(error) == [("p9", "properties.mgrs")]
    assert says in error.issues[0].message


def test_geometry_and_mgrs_both_given_is_refused(agreement) -> None:
    both = feature("position", "p1", mgrs="34REN5045565040")
    error = refused(agreement, both)
    assert where(error) == [("p1", "properties.mgrs")]
    assert "not both" in error.issues[0].message
    with pytest.raises(WorldError) as caught:
        resolve_mgrs(both, agreement)
    assert where(caught.value) == [("p1", "properties.mgrs")]


@pytest.mark.parametrize("bad", [10**400, -1, "5", True, [1], float("nan")])
def test_a_bad_uncertainty_beside_mgrs_is_named_not_replaced(agreement, bad) -> None:
    error = refused(agreement, typed("position", "p1", "34REN5045565040", uncertainty_m=bad))
    assert where(error) == [("p1", "properties.uncertainty_m")]
    with pytest.raises(WorldError):
        resolve_mgrs(typed("position", "p1", "34REN5045565040", uncertainty_m=bad), agreement)


def test_a_kind_without_a_point_has_no_mgrs(agreement) -> None:
    error = refused(agreement, feature("movement", "m1", mgrs="34REN5045565040"))
    assert ("m1", "properties.mgrs") in where(error)


def test_resolve_gives_the_stored_form_which_reads_back_alike(agreement) -> None:
    given = typed("protected_site", "s1", "34REN5045565040", uncertainty_m=3)
    stored = resolve_mgrs(given, agreement)
    assert "mgrs" not in stored["properties"] and stored["properties"]["uncertainty_m"] == 3.71
    assert given["properties"]["mgrs"] == "34REN5045565040"  # the caller's copy untouched
    (obj,) = parse_world(collection(stored), agreement, limits=False)
    (again,) = parse_world(collection(given), agreement)
    assert isinstance(obj, ProtectedSite) and obj == again
    plain = feature("position", "p1")
    assert resolve_mgrs(plain, agreement) is plain  # nothing to read: as it was


def test_a_world_file_may_type_its_points(agreement, tmp_path) -> None:
    path = tmp_path / "world.geojson"
    path.write_text(json.dumps(collection(typed("position", "p1", "34R EN 50455 65040"))))
    (obj,) = load_world(path, agreement)
    point = parse_point("34REN5045565040")
    assert (obj.geometry.x, obj.geometry.y) == (point.lon, point.lat)
