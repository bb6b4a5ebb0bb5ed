"""The deconfliction engine: spatial and temporal index, checks and conflicts."""

from __future__ import annotations

from accord.deconfliction.conflicts import Conflict
from accord.deconfliction.engine import SEGMENT_M, DeconflictionIndex, OperationCheck, warm_up

__all__ = ["SEGMENT_M", "Conflict", "DeconflictionIndex", "OperationCheck", "warm_up"]
