"""The embedded default agreement and world (synthetic: invented places, invented units).

``examples/`` at the repository root links here, so the files a person reads are the ones
``accord demo`` runs.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["example_path"]


def example_path(name: str) -> Path:
    """The path of an embedded example file (``jig.yaml``, ``world.geojson``, ``tracks.csv``)."""
    return Path(str(files(__package__).joinpath(name)))
