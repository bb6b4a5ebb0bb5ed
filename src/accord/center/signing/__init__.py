"""Signing: a member's acts are signed on its side and taken in here; the agreement's roots
sign it and certify their members' keys (issue 17; :mod:`accord.center.signing.service`)."""
