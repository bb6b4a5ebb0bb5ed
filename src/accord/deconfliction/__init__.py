"""The deconfliction engine: spatial and temporal index, checks and conflicts.

:mod:`accord.deconfliction.engine` indexes a declared world and checks operations against
it; :mod:`accord.deconfliction.conflicts` is what it reports; :mod:`accord.deconfliction.hidden`
answers a proposer about another party's hidden objects from their shadows.
"""

from __future__ import annotations

from accord.deconfliction.conflicts import Conflict
from accord.deconfliction.engine import SEGMENT_M, DeconflictionIndex, OperationCheck, warm_up

__all__ = ["SEGMENT_M", "Conflict", "DeconflictionIndex", "OperationCheck", "warm_up"]
