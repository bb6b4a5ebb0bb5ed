"""A point a person typed (MGRS, decimal degrees, DMS), read by the center for the page."""
