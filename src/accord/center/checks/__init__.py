"""Checks of received geometry: coordinates one party passes another, checked for each of
them on arrival, recorded as commitments of constant shape, opened to each party only.

See :mod:`accord.center.checks.service`.
"""

from __future__ import annotations
