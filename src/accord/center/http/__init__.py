"""The HTTP layer the features' routes use, below them: problem mapping (RFC 9457),
authentication, the middlewares, idempotent writes, the page and the shared route schemas.
It imports no feature's routes or services (only the running center and who the caller is);
the application that assembles it with every feature's routes is :mod:`accord.center.app`."""
