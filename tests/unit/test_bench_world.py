"""The benchmark's own comparison, at a small scale: index, full scan, STRtree and the pyproj
brute force give the same conflicts on a synthetic theatre (correctness, not speed)."""

from __future__ import annotations

from bench import deconfliction
from bench.world import make_world

from accord.agreement import load_agreement
from accord.examples import example_path


def test_bench_answers_agree_on_a_small_theatre() -> None:
    agreement = load_agreement(example_path("jig.yaml"))
    world = make_world(sites=20_000, positions=2_000, flights=200, operations=150, seed=3)
    rows = {
        name: (ours, theirs)
        for name, ours, theirs, _ in deconfliction.run(
            agreement, world, brute_sample=4, scan_sample=40, strtree_sample=150
        )
    }
    assert rows["answers differing from STRtree"][0] == "0 of 150 ops"
    assert rows["answers differing from brute force"][0] == "0 of 4 ops"
    assert rows["answers differing from no-index scan"][0] == "0 of 40 ops"
    assert int(rows["conflicts found (all operations)"][0].replace(",", "")) > 50
