"""KML read back by an independent reader (``fastkml``, a test dependency): the placemarks
of a document through every folder, and a placemark's ``ExtendedData``."""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # fastkml: "Package `lxml` missing"
    from fastkml import kml as fastkml


def placemarks(data: bytes) -> list[Any]:
    """Every placemark ``fastkml`` finds in the KML ``data``, in document order."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        for child in getattr(node, "features", None) or []:
            if type(child).__name__ == "Placemark":
                found.append(child)
            else:
                walk(child)

    walk(fastkml.KML.from_string(data))
    return found


def extended(placemark: Any) -> dict[str, str]:
    """A placemark's ``ExtendedData`` as name → value (fastkml leaves out empty values)."""
    return {d.name: d.value for d in placemark.extended_data.elements}
