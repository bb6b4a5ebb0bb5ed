"""``python -m bench.strictjson``: what reading every ``/v1`` body strictly costs.

The service reads a body twice: once in :class:`accord.center.http.hardening.StrictJson`
(:func:`accord.jsontext.loads`, a dictionary per object to find a repeated key), once in
the route (Python's own reader). Bodies up to the service's limit (1 MiB): a track batch of
ordinary reports, a large declaration polygon, and the shape most costly per byte for the
check — small objects back to back — with and without a duplicate at the very end (a refused
body is read a second time, to name the path).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from accord.center.config import DEFAULT_MAX_BODY_BYTES
from accord.jsontext import DuplicateKey, loads


def _best_ms(run: Callable[[], Any], repeat: int = 7) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _fill(make: Callable[[int], str], limit: int) -> str:
    """The largest ``make(n)`` under ``limit`` bytes (n doubling, then halving)."""
    n = 1
    while len(make(n * 2)) < limit:
        n *= 2
    step = n // 2
    while step:
        if len(make(n + step)) < limit:
            n += step
        step //= 2
    return make(n)


def _track(i: int) -> dict[str, Any]:
    return {
        "id": f"blue-{i}",
        "operator": "blue",
        "party": "blue",
        "mission": "patrol",
        "time": "2026-09-21T15:00:00Z",
        "lat": 25.0 + i * 1e-4,
        "lon": 21.0,
        "alt_ft": 30000,
        "gs_kt": 400,
        "track_deg": 90,
        "vs_fpm": 0,
    }


def bodies(limit: int = DEFAULT_MAX_BODY_BYTES) -> dict[str, str]:
    """Name → a body just under ``limit`` bytes."""
    tracks = _fill(lambda n: json.dumps({"tracks": [_track(i) for i in range(n)]}), limit)
    polygon = _fill(
        lambda n: json.dumps(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[21.0 + i * 1e-5, 25.0] for i in range(n)] + [[21.0, 25.0]]],
                },
                "properties": {"kind": "position", "disclosure": "center"},
            }
        ),
        limit,
    )
    small = _fill(lambda n: "[" + ",".join(['{"a":1,"b":2}'] * n) + "]", limit)
    twice = small[:-1] + ',{"a":1,"a":2}]'
    return {"track batch": tracks, "polygon": polygon, "small objects": small, "refused": twice}


def main() -> None:
    print(f"{'body':<16}{'KiB':>8}{'json.loads ms':>15}{'strict ms':>11}{'ratio':>7}")
    for name, text in bodies().items():
        plain = _best_ms(lambda t=text: json.loads(t))

        def strict(t: str = text) -> None:
            with contextlib.suppress(DuplicateKey):
                loads(t)

        checked = _best_ms(strict)
        kib = len(text) / 1024
        print(f"{name:<16}{kib:>8.0f}{plain:>15.2f}{checked:>11.2f}{checked / plain:>7.2f}")


if __name__ == "__main__":
    main()
