"""Users and their tokens: the life cycle the administrator runs, and who the caller is
(``/v1/me``). The identity every feature reads (:class:`~accord.center.identity.Caller`) is
the center's kernel, :mod:`accord.center.identity`."""
