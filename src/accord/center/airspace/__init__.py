"""The air picture: live tracks in, conflicts and designated-area alerts out, flight-plan probes."""
