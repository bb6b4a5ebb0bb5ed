"""State-based conflict detection: geometry by hand, and the grid against the all-pairs oracle."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.agreement import AirspaceRules
from accord.airspace import (
    Conflicts,
    Separation,
    States,
    TrackReport,
    TrackSet,
    detect_conflicts,
    detect_conflicts_all_pairs,
    track_conflicts,
)
from accord.airspace.detect import EARTH_RADIUS_M, candidate_bound, candidate_pairs
from accord.units import NM

SEP = Separation(horizontal_m=5 * NM, vertical_ft=1000.0, lookahead_s=300.0)
LAT0, LON0 = 25.0, 21.0
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0


def at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) of a point east/north of the reference, in the detector's flat frame."""
    lat = LAT0 + north_m / M_PER_DEG
    lon = LON0 + east_m / (M_PER_DEG * math.cos(math.radians((LAT0 + lat) / 2.0)))
    return lat, lon


def aircraft(
    east_m: float = 0.0,
    north_m: float = 0.0,
    alt_ft: float = 30000.0,
    gs: float = 200.0,
    trk: float = 0.0,
    vs: float = 0.0,
) -> tuple[float, ...]:
    lat, lon = at(east_m, north_m)
    return (lat, lon, alt_ft, gs, trk, vs)


def states(*planes: tuple[float, ...]) -> States:
    cols = list(zip(*planes, strict=True))
    return States.from_motion(
        lat=cols[0], lon=cols[1], alt_ft=cols[2], gs_ms=cols[3], track_deg=cols[4], vs_fpm=cols[5]
    )


def detect(*planes: tuple[float, ...], sep: Separation = SEP) -> Conflicts:
    st_ = states(*planes)
    fast = detect_conflicts(st_, sep)
    assert_same(fast, detect_conflicts_all_pairs(st_, sep))
    return fast


def assert_same(a: Conflicts, b: Conflicts) -> None:
    for name in ("i", "j", "tcpa_s", "dcpa_m", "tlos_s", "tend_s", "lost"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_head_on() -> None:
    found = detect(aircraft(0, 0, trk=90), aircraft(50_000, 0, trk=270))
    assert len(found) == 1
    assert found.tcpa_s[0] == pytest.approx(125.0, rel=1e-3)
    assert found.dcpa_m[0] == pytest.approx(0.0, abs=1.0)
    assert found.tlos_s[0] == pytest.approx((50_000 - 5 * NM) / 400.0, rel=1e-3)
    assert not found.lost[0]
    assert found.tend_s[0] == pytest.approx((50_000 + 5 * NM) / 400.0, rel=1e-3)


def test_minima_given_as_integers_are_the_same_minima() -> None:
    whole = Separation(horizontal_m=9260, vertical_ft=1000, lookahead_s=300)
    assert (whole.horizontal_m, whole.vertical_ft, whole.lookahead_s) == (9260.0, 1000.0, 300.0)
    pair = (aircraft(0, 0, trk=90), aircraft(50_000, 0, trk=270))
    assert_same(detect(*pair, sep=whole), detect(*pair, sep=SEP))
    with pytest.raises(ValueError, match="lookahead_s must be a number"):
        Separation(horizontal_m=9260, vertical_ft=1000, lookahead_s=True)


def test_head_on_beyond_the_lookahead_is_not_a_conflict() -> None:
    # loss would start at (130 km - 9.26 km) / 400 m/s = 302 s
    assert len(detect(aircraft(0, 0, trk=90), aircraft(130_000, 0, trk=270))) == 0


def test_crossing_at_the_same_time_and_a_miss() -> None:
    # A flies north through the origin, B east; both reach it 100 s from now
    a = aircraft(0, -20_000, trk=0)
    hit = detect(a, aircraft(-20_000, 0, trk=90))
    assert len(hit) == 1
    assert hit.tcpa_s[0] == pytest.approx(100.0, rel=1e-3)
    # B two minutes late: at A's passage B is 24 km short; the CPA is ~17 km apart
    miss = detect(a, aircraft(-44_000, 0, trk=90))
    assert len(miss) == 0


def test_overtaking() -> None:
    slow = aircraft(0, 0, gs=150.0, trk=0)
    near = detect(slow, aircraft(0, -20_000, gs=200.0, trk=0))
    assert len(near) == 1
    assert near.tlos_s[0] == pytest.approx((20_000 - 5 * NM) / 50.0, rel=1e-3)
    far = detect(slow, aircraft(0, -30_000, gs=200.0, trk=0))  # loss at 415 s
    assert len(far) == 0


def test_climbing_through_a_level_aircraft() -> None:
    level = aircraft(0, 0, alt_ft=30000, trk=90)
    climber = aircraft(0, 0, alt_ft=28000, trk=90, vs=2000)  # formation, 2000 ft below
    found = detect(level, climber)
    assert len(found) == 1
    assert found.tlos_s[0] == pytest.approx(30.0)  # 1000 ft closed at 2000 ft/min
    assert found.tend_s[0] == pytest.approx(90.0)  # out 1000 ft above
    assert not found.lost[0]
    # the same climb from 12,000 ft below reaches the level only after the look-ahead
    assert len(detect(level, aircraft(0, 0, alt_ft=18000, trk=90, vs=2000))) == 0


def test_parallel_tracks() -> None:
    # same speed and track, 3 NM abeam: level 2000 ft apart is separated ...
    a = aircraft(0, 0, trk=0)
    assert len(detect(a, aircraft(3 * NM, 0, alt_ft=32000, trk=0))) == 0
    # ... at the same level separation is lost now and stays lost
    found = detect(a, aircraft(3 * NM, 0, trk=0))
    assert len(found) == 1 and found.lost[0]
    assert found.tcpa_s[0] == 0.0
    assert found.dcpa_m[0] == pytest.approx(3 * NM, rel=1e-6)
    assert found.tend_s[0] == math.inf
    # 6 NM abeam: never
    assert len(detect(a, aircraft(6 * NM, 0, trk=0))) == 0


def test_already_in_loss_and_converging() -> None:
    found = detect(aircraft(0, 0, trk=90), aircraft(2 * NM, 0, trk=270))
    assert len(found) == 1
    assert found.lost[0] and found.tlos_s[0] == 0.0


def test_diverging() -> None:
    # 2 NM apart and flying apart: still lost now, the CPA behind
    lost = detect(aircraft(0, 0, trk=270), aircraft(2 * NM, 0, trk=90))
    assert len(lost) == 1 and lost.lost[0]
    assert lost.tcpa_s[0] < 0
    # 6 NM apart and flying apart: they passed each other; no conflict ahead
    assert len(detect(aircraft(0, 0, trk=270), aircraft(6 * NM, 0, trk=90))) == 0


def test_exactly_1000_ft_level_is_separated() -> None:
    same_place = aircraft(0, 0, alt_ft=30000, trk=90)
    assert len(detect(same_place, aircraft(0, 0, alt_ft=31000, trk=270))) == 0
    assert len(detect(same_place, aircraft(0, 0, alt_ft=29000, trk=0))) == 0
    found = detect(same_place, aircraft(0, 0, alt_ft=30999, trk=270))
    assert len(found) == 1 and found.lost[0]
    # climbing in formation 1000 ft apart: the same vertical rate, never closer
    assert (
        len(detect(aircraft(alt_ft=30000, vs=1500), aircraft(1000, 0, alt_ft=31000, vs=1500))) == 0
    )


def test_exactly_1000_ft_level_after_extrapolation() -> None:
    t0 = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)

    def report(track_id: str, alt_ft: float, minutes: int) -> TrackReport:
        return TrackReport(
            id=track_id,
            operator="blue",
            party="blue",
            mission="transport",
            time=t0 - timedelta(minutes=minutes, seconds=7),
            lat=25.0,
            lon=21.0,
            alt_ft=alt_ft,
            gs_kt=433.0,
            track_deg=37.0,
            vs_fpm=0.0,
        )

    tracks = TrackSet.from_reports([report("a", 24000, 3), report("b", 25000, 1)])
    states_now = tracks.states_at(t0)
    assert states_now.alt_ft.tolist() == [24000.0, 25000.0]
    assert track_conflicts(tracks, SEP, t0) == ()


def test_separation_from_the_agreement_defaults() -> None:
    sep = Separation.from_rules(AirspaceRules())
    assert sep == Separation(horizontal_m=9260.0, vertical_ft=1000.0, lookahead_s=300.0)
    with pytest.raises(ValueError, match="horizontal_m"):
        Separation(horizontal_m=0.0, vertical_ft=1000.0, lookahead_s=300.0)


def test_no_aircraft_and_one_aircraft() -> None:
    for planes in ((), (aircraft(),)):
        st_ = (
            states(*planes)
            if planes
            else States.from_motion(lat=[], lon=[], alt_ft=[], gs_ms=[], track_deg=[], vs_fpm=[])
        )
        assert len(detect_conflicts(st_, SEP)) == 0
        assert len(detect_conflicts_all_pairs(st_, SEP)) == 0


def test_across_the_antimeridian_and_near_a_pole() -> None:
    # (near a pole the flat frame is poor, as in BlueSky; the grid must still agree with it)
    across = States.from_motion(
        lat=[10.0, 10.0, 89.95, 89.95],
        lon=[179.99, -179.99, 0.0, 10.0],
        alt_ft=[30000, 30000, 35000, 35000],
        gs_ms=[200, 200, 150, 150],
        track_deg=[90, 270, 0, 0],
        vs_fpm=[0, 0, 0, 0],
    )
    fast = detect_conflicts(across, SEP)
    assert_same(fast, detect_conflicts_all_pairs(across, SEP))
    assert (0, 1) in fast.pairs()
    assert (2, 3) in fast.pairs()


def test_results_are_read_only() -> None:
    found = detect(aircraft(0, 0, trk=90), aircraft(50_000, 0, trk=270))
    with pytest.raises(ValueError, match="read-only"):
        found.i[0] = 5


# --- the grid against every pair -------------------------------------------------------

_ALTS = st.one_of(
    st.sampled_from([10000.0, 11000.0, 12000.0, 30000.0, 31000.0]),
    st.integers(-1500, 45000).map(float),
)
_RATES = st.one_of(
    st.just(0.0), st.sampled_from([1000.0, -1000.0, 2500.0]), st.integers(-6000, 6000).map(float)
)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[States, Separation]:
    n_clusters = draw(st.integers(1, 4))
    centres = [
        (
            draw(st.one_of(st.floats(-60, 60), st.sampled_from([0.0, 89.9, -89.9, 45.0]))),
            draw(st.one_of(st.floats(-180, 180), st.sampled_from([180.0, -180.0, 179.99]))),
            draw(st.sampled_from([0.001, 0.05, 0.5, 3.0])),  # spread, degrees
        )
        for _ in range(n_clusters)
    ]
    n = draw(st.integers(0, 40))
    lat, lon, alt, gs, trk, vs = [], [], [], [], [], []
    for _ in range(n):
        c_lat, c_lon, spread = centres[draw(st.integers(0, n_clusters - 1))]
        lat.append(max(-90.0, min(90.0, c_lat + draw(st.floats(-spread, spread)))))
        x = c_lon + draw(st.floats(-spread, spread))
        lon.append((x + 180.0) % 360.0 - 180.0)
        alt.append(draw(_ALTS))
        gs.append(draw(st.one_of(st.just(0.0), st.floats(0, 400), st.sampled_from([150.0]))))
        trk.append(draw(st.one_of(st.sampled_from([0.0, 90.0, 180.0, 270.0]), st.floats(0, 360))))
        vs.append(draw(_RATES))
    if n >= 2 and draw(st.booleans()):  # an exact twin
        for column in (lat, lon, alt, gs, trk, vs):
            column[-1] = column[0]
    sep = Separation(
        horizontal_m=draw(st.sampled_from([5 * NM, 3 * NM, 10 * NM, 500.0])),
        vertical_ft=draw(st.sampled_from([1000.0, 2000.0, 500.0])),
        lookahead_s=draw(st.sampled_from([300.0, 60.0, 1200.0])),
    )
    return (
        States.from_motion(lat=lat, lon=lon, alt_ft=alt, gs_ms=gs, track_deg=trk, vs_fpm=vs),
        sep,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_grid_finds_exactly_the_all_pairs_conflicts(scene: tuple[States, Separation]) -> None:
    states_, sep = scene
    fast = detect_conflicts(states_, sep)
    assert_same(fast, detect_conflicts_all_pairs(states_, sep, chunk=37))
    i, j = candidate_pairs(states_, sep)
    assert np.all(i < j)
    pairs = set(zip(i.tolist(), j.tolist(), strict=True))
    assert len(pairs) == i.shape[0], "a candidate pair was produced twice"
    # the bound a limit checks first never counts fewer pairs than the detector examines
    assert candidate_bound(states_, sep) >= len(pairs) >= len(fast)


@pytest.mark.parametrize("seed", [1, 2])
def test_grid_matches_the_oracle_on_a_dense_theater(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1500
    st_ = States.from_motion(
        lat=rng.uniform(24.0, 26.0, n),
        lon=rng.uniform(20.0, 22.0, n),
        alt_ft=np.round(rng.uniform(10000, 40000, n) / 500) * 500,
        gs_ms=rng.uniform(100, 250, n),
        track_deg=rng.uniform(0, 360, n),
        vs_fpm=np.where(rng.random(n) < 0.2, np.round(rng.uniform(-3000, 3000, n)), 0.0),
    )
    fast = detect_conflicts(st_, SEP)
    assert len(fast) > 100
    assert fast.candidates < n * (n - 1) // 2 // 10
    assert fast.candidates <= candidate_bound(st_, SEP) < 4 * fast.candidates
    assert_same(fast, detect_conflicts_all_pairs(st_, SEP))
