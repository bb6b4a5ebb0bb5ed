"""Live events: published in the unit of work that causes them, fanned out to subscribers as
Server-Sent Events."""
