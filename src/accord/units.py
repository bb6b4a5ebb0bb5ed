"""Aviation's units of measure, defined once: how many SI units each one is.

Separation minima, altitudes and speeds come in nautical miles, feet and knots (ICAO
Annex 5 keeps them beside the SI units); the engine computes in metres and seconds. Each
constant is the size of one unit in metres (or metres per second), so ``5 * NM`` is five
nautical miles in metres and ``d / NM`` is ``d`` metres in nautical miles. The nautical
mile (1852 m, 1929) and the foot (0.3048 m, 1959) are exact by definition, and so is the
knot made from the nautical mile.

>>> 5 * NM
9260.0
>>> round(1000 * FT, 1)
304.8
>>> round(450 * KT, 3)
231.5
"""

from __future__ import annotations

__all__ = ["FT", "KT", "NM"]

NM = 1852.0
"""One international nautical mile in metres."""

FT = 0.3048
"""One international foot in metres."""

KT = NM / 3600.0
"""One knot (a nautical mile per hour) in metres per second."""
