"""``/v1/world.kml`` and ``/v1/world.kmz``: the world a caller may see, for Google Earth and
QGIS (queries: the reads, each through the routes' own queries and
:mod:`accord.center.visibility`; routes)."""

__all__: list[str] = []
