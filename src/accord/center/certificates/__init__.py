"""TAK client certificates: enrolled from a request, listed, revoked."""
