"""KML and KMZ, the geodata Google Earth and QGIS users exchange: :mod:`accord.kml.write` draws
what a reader may see (ElementTree, no third-party writer), :mod:`accord.kml.read` reads
placemarks to declare (defusedxml: no DTD, no entity, no external reference; a KMZ read with
bounded sizes). Both are pure: bytes in, values out."""
