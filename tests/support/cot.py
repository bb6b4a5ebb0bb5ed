"""What the CoT tests share: hypothesis strategies for events (every field within what the
model takes, texts of any character XML can carry), and pytak, imported quietly, as the
independent writer and reader."""

from __future__ import annotations

import asyncio
import warnings
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from accord.cot import (
    AccordMark,
    Detail,
    Ellipse,
    Event,
    Group,
    Link,
    LinkPoint,
    Point,
    TakControl,
    Takv,
    Track,
)

with warnings.catch_warnings():  # pytak warns that its optional aiohttp is not installed
    warnings.simplefilter("ignore")
    import pytak

T0 = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)

# any character XML 1.0 carries (no surrogates, no C0 controls but tab and line breaks)
xml_char = st.characters(
    min_codepoint=0x20, blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"
) | st.sampled_from("\t\n\r")
xml_text = st.text(xml_char, max_size=30)
names = st.text(xml_char, min_size=1, max_size=30).filter(lambda s: s.strip() != "")
atoms = st.from_regex(r"\A[A-Za-z0-9_.]{1,4}(-[A-Za-z0-9_.]{1,4}){0,5}\Z")
lats = st.floats(-90, 90)
lons = st.floats(-180, 180)
haes = st.none() | st.floats(-12_000, 100_000)
errors = st.none() | st.floats(0, 999_998)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
points = st.builds(Point, lat=lats, lon=lons, hae=haes, ce=errors, le=errors)
links = st.builds(
    Link,
    uid=st.none() | names,
    type=st.none() | atoms,
    relation=st.none() | atoms,
    point=st.none() | st.builds(LinkPoint, lat=lats, lon=lons, hae=haes),
)
EXTRA = ('<status battery="88" />', '<uid Droid="Blue 1" />', "<__forcedelete />")
details = st.builds(
    Detail,
    callsign=st.none() | xml_text,
    track=st.none() | st.builds(Track, course=st.floats(0, 360), speed=st.floats(0, 10_000)),
    remarks=st.none() | xml_text,
    links=st.lists(links, max_size=5).map(tuple),
    ellipse=st.none()
    | st.builds(
        Ellipse, major=st.floats(0, 1e7), minor=st.floats(0, 1e7), angle=st.floats(-360, 360)
    ),
    group=st.none() | st.builds(Group, name=xml_text, role=xml_text),
    takv=st.none() | st.builds(Takv, device=xml_text, platform=xml_text, os=xml_text),
    accord=st.none() | st.builds(AccordMark, id=names, index=st.none() | st.integers(0, 10**9)),
    takcontrol=st.none()
    | st.builds(
        TakControl,
        support=st.lists(st.integers(0, 9), max_size=3).map(tuple),
        request=st.none() | st.integers(0, 9),
        response=st.none() | st.booleans(),
    ),
    extra=st.lists(st.sampled_from(EXTRA), max_size=3).map(tuple),
)


@st.composite
def events(draw: st.DrawFn) -> Event:
    start = draw(instants)
    return Event(
        uid=draw(names),
        type=draw(atoms),
        how=draw(atoms),
        time=draw(instants),
        start=start,
        stale=start + timedelta(seconds=draw(st.integers(0, 10**6))),
        point=draw(points),
        detail=draw(details),
    )


def pytak_reads(stream: bytes) -> list[bytes]:
    """What pytak's receiving worker cuts from ``stream`` (``RXWorker.readcot``: read up to
    each ``</event>``), as a pytak client would read the center's stream."""

    class Reader(pytak.RXWorker):  # type: ignore[misc]
        async def handle_data(self, data: bytes) -> None:  # pragma: no cover - unused
            pass

    async def run() -> list[bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(stream)
        reader.feed_eof()
        worker = Reader(asyncio.Queue(), {}, reader)
        found = []
        while (cot := await worker.readcot()) is not None:
            found.append(cot)
        return found

    return asyncio.run(run())
