"""Declarations: what each party and notifier declares (sites, movements, positions, flight plans),
their versions, acknowledgements and the record's entries about them."""
