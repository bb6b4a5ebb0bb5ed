"""Where each hidden declaration is answered from: its shadow, drawn and kept by the center.

:mod:`accord.deconfliction.hidden` says what a shadow is and why it bounds what a prober
learns; this module draws one (a secret direction from :mod:`secrets`) when a ``center``
object is declared, keeps it while an amendment leaves the object within the precision
bound of its anchor, draws it anew otherwise, and reads it back for the world cache. The
shadow lives on the declaration's row (``declarations.shadow``), so every server process
answers from the same one.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from accord.agreement import Agreement
from accord.deconfliction.hidden import Shadow, shadow_object, stays_within
from accord.world import Declared, Disclosure

__all__ = ["placed", "shadow_of"]

_AZIMUTH_STEPS = 360_000_000  # a millionth of a degree
_log = logging.getLogger("accord.center")


def _precision(agreement: Agreement) -> float:
    return agreement.disclosure.hidden_precision_m


def _read(agreement: Agreement, text: str) -> Shadow:
    data: Any = json.loads(text)
    return Shadow.from_json(data, precision_m=_precision(agreement))


def placed(agreement: Agreement, obj: Declared, previous: str | None) -> str | None:
    """The shadow to store for ``obj`` (JSON), given the one stored for its previous version.

    None for a shared object or when the agreement sets no precision bound. The previous
    shadow is kept while ``obj`` stays within its bound (see
    :func:`accord.deconfliction.hidden.stays_within`) and the bound is unchanged; otherwise
    a new one is drawn, anchored at ``obj``'s geometry, in a fresh secret direction."""
    precision = _precision(agreement)
    if obj.disclosure is not Disclosure.CENTER or precision <= 0:
        return None
    if previous is not None:
        try:
            shadow = _read(agreement, previous)
        except (ValueError, TypeError, KeyError, AttributeError):
            _log.warning("a stored shadow does not read; drawing a new one for %s", obj.id)
        else:
            if shadow.precision_m == precision and stays_within(shadow, obj.geometry):
                return previous
    fresh = Shadow(
        anchor=obj.geometry,
        azimuth_deg=secrets.randbelow(_AZIMUTH_STEPS) / 1e6,
        precision_m=precision,
    )
    return json.dumps(fresh.to_json(), separators=(",", ":"))


def shadow_of(agreement: Agreement, obj: Declared, stored: str | None) -> Declared | None:
    """The shadow object the engine indexes beside ``obj`` (None: ``obj`` is not hidden or
    has no shadow). A stored shadow that no longer fits its object (a different geometry
    type or, for a flight plan, a different number of vertices) cannot answer for it:
    refused (``ValueError``), as a stored row that does not read is."""
    if stored is None or obj.disclosure is not Disclosure.CENTER:
        return None
    data: Any = json.loads(stored)
    if data.get("precision_m") is None and _precision(agreement) <= 0:
        return None  # drawn for "the bound in force", and the agreement now sets none
    shadow = Shadow.from_json(data, precision_m=_precision(agreement))
    if shadow.anchor.geom_type != obj.geometry.geom_type:
        raise ValueError(f"the shadow of {obj.id} is not of its object's type")
    return shadow_object(obj, shadow)
