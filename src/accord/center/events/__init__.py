"""Live events fanned out to subscribers as Server-Sent Events. Publishing them in the unit
of work that causes them is the center's kernel, :mod:`accord.center.event_store`."""
