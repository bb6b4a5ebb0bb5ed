"""Users and their tokens: identity, the life cycle the administrator runs, and who the caller
is."""
