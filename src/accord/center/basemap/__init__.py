"""The operator's own detailed basemap: a PMTiles archive checked at start-up and served by
byte range to the page (``accord serve --basemap``)."""
