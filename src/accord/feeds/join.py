"""The latest whole state of each aircraft a feed hears, joined from partial sightings
(:class:`Joiner`): what `accord feed` posts, once per interval, latest wins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from accord.feeds.sighting import Sighting

__all__ = ["Joiner"]


@dataclass(slots=True)
class _State:
    key: str
    icao24: str | None = None
    callsign: str | None = None
    squawk: str | None = None
    at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    alt_ft: float | None = None
    gs_kt: float | None = None
    track_deg: float | None = None
    vs_fpm: float | None = None
    heard: datetime | None = None
    source: str = "sbs"


@dataclass(slots=True)
class Joiner:
    """The latest whole state of each aircraft, joined from partial sightings.

    A state is whole once it has a position, an altitude, a ground speed and a track (a
    missing vertical rate is read as level flight); its time is the time of its latest
    position. :meth:`take` hands out the whole states that changed since the last call
    (latest wins: an aircraft heard ten times between two calls is posted once), the
    longest waiting first: those handed back by :meth:`again`, then the others in the order
    they first changed — so a center that takes only part of each round (slowing its feed)
    still gets every aircraft in turn, never the same first few again and again.
    :meth:`forget` drops aircraft not heard for a while, so memory is bounded by the aircraft
    in the air, not by every aircraft ever heard.
    """

    states: dict[str, _State] = field(default_factory=dict)
    changed: dict[str, None] = field(default_factory=dict)
    """The aircraft to hand out, in the order :meth:`take` hands them out (a dict: ordered)."""
    max_aircraft: int = 50_000

    def add(self, s: Sighting) -> bool:
        """Fold one sighting in; ``False`` when it was refused (too many aircraft held)."""
        state = self.states.get(s.key)
        if state is None:
            if len(self.states) >= self.max_aircraft:
                return False
            state = self.states[s.key] = _State(s.key)
        state.heard = s.time if state.heard is None else max(state.heard, s.time)
        state.source = s.source
        for name in ("icao24", "callsign", "squawk"):
            value = getattr(s, name)
            if value is not None:
                setattr(state, name, value)
        if s.lat is not None and s.lon is not None:
            if state.at is not None and s.time < state.at:
                return True  # an older position than the one held
            state.lat, state.lon, state.at = s.lat, s.lon, s.time
        for name in ("alt_ft", "gs_kt", "track_deg", "vs_fpm"):
            value = getattr(s, name)
            if value is not None:
                setattr(state, name, value)
        if self._whole(state):
            self.changed.setdefault(s.key)  # one waiting keeps its place
        return True

    @staticmethod
    def _whole(state: _State) -> bool:
        return None not in (state.at, state.lat, state.alt_ft, state.gs_kt, state.track_deg)

    def take(self) -> list[Sighting]:
        """The whole states changed since the last call, as sightings, the longest waiting
        first (see the class docstring)."""
        out = [self._sighting(self.states[k]) for k in self.changed if k in self.states]
        self.changed.clear()
        return out

    def again(self, keys: Iterable[str]) -> None:
        """Mark aircraft to be handed out again (a batch that did not reach the center): they
        go before every other (they have waited longest)."""
        self.changed = {k: None for k in keys if k in self.states} | self.changed

    def end(self, keys: Iterable[str]) -> None:
        """Drop aircraft whose sensor said their track ended (a CAT062 track's last message)."""
        for k in keys:
            self.states.pop(k, None)
            self.changed.pop(k, None)

    def forget(self, before: datetime) -> int:
        """Drop the aircraft last heard before ``before``; how many."""
        gone = [k for k, s in self.states.items() if s.heard is not None and s.heard < before]
        for k in gone:
            del self.states[k]
            self.changed.pop(k, None)
        return len(gone)

    @staticmethod
    def _sighting(state: _State) -> Sighting:
        assert state.at is not None
        return Sighting(
            key=state.key,
            source=state.source,
            time=state.at,
            icao24=state.icao24,
            callsign=state.callsign,
            squawk=state.squawk,
            lat=state.lat,
            lon=state.lon,
            alt_ft=state.alt_ft,
            gs_kt=state.gs_kt,
            track_deg=0.0 if state.track_deg == 360.0 else state.track_deg,
            vs_fpm=state.vs_fpm if state.vs_fpm is not None else 0.0,
        )
