"""How the picture's replay folds the record entries of incident and violation reports
(:mod:`accord.center.reports.service` declares each kind with its fold here): every report
as the record tells it (:data:`REPORTS`), in clear, with the accused party's answer.

The same reading of an entry's event (:func:`report_of`, :func:`answer_of`) serves the
replay and the service's own rows (which keep the event exactly as recorded), so what the
service lists and what the record proves cannot differ in shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accord.agreement import CENTER
from accord.center.entry_kinds import Part, Recorded, Replaying
from accord.chrono import format_instant, parse_instant

__all__ = [
    "REPORTS",
    "AnswerRecord",
    "Evidence",
    "ReportRecord",
    "answer_of",
    "answered",
    "filed",
    "report_of",
]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence a report or an answer names: the SHA-256 of its bytes (64
    lower-case hex digits) and, optionally, a name for it. The evidence itself stays with
    whoever holds it; the record holds the hash that pins it."""

    sha256: str
    name: str | None

    def as_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "name": self.name}


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """The accused party's answer to a report, as the record tells it."""

    text: str
    cites: tuple[int, ...]
    evidence: tuple[Evidence, ...]
    answered_at: datetime
    entry: int

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "cites": list(self.cites),
            "evidence": [e.as_json() for e in self.evidence],
            "answered_at": format_instant(self.answered_at),
            "entry": self.entry,
        }


@dataclass(slots=True)
class ReportRecord:
    """An incident or violation report as the record tells it: who filed it (the entry's
    author), whom it accuses (a party, or the center: :data:`~accord.agreement.CENTER`),
    what happened, when and where, the record entries it cites, the hashes of its evidence,
    and the accused party's answer once there is one (never, against the center)."""

    id: str
    filer: str
    accused: str
    what: str
    start: datetime
    end: datetime | None
    where: dict[str, Any] | None
    cites: tuple[int, ...]
    evidence: tuple[Evidence, ...]
    filed_at: datetime
    entry: int
    answer: AnswerRecord | None = field(default=None)

    @property
    def open(self) -> bool:
        """Whether the accused party has not answered it (a report against the center stays
        open: no member answers for the center)."""
        return self.answer is None

    def as_json(self) -> dict[str, Any]:
        """The report as every member of the agreement reads it (the live event's payload
        and, through :mod:`accord.center.reports.views`, every answer)."""
        return {
            "id": self.id,
            "filer": self.filer,
            "accused": self.accused,
            "what": self.what,
            "when": {
                "start": format_instant(self.start),
                "end": None if self.end is None else format_instant(self.end),
            },
            "where": self.where,
            "cites": list(self.cites),
            "evidence": [e.as_json() for e in self.evidence],
            "filed_at": format_instant(self.filed_at),
            "entry": self.entry,
            "open": self.open,
            "answer": None if self.answer is None else self.answer.as_json(),
        }


REPORTS: Part[dict[str, ReportRecord]] = Part("reports", dict, shape=dict[str, ReportRecord])
"""Every report the record tells of, by id."""


# --- reading an entry's event ---------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _cites(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise TypeError("cites is a list")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int):
            raise TypeError("a cited entry is an index")
    return tuple(value)


def _evidence(value: Any) -> tuple[Evidence, ...]:
    if not isinstance(value, list):
        raise TypeError("evidence is a list")
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise TypeError("a piece of evidence is an object")
        name = item.get("name")
        out.append(Evidence(_text(item["sha256"]), None if name is None else _text(name)))
    return tuple(out)


def report_of(event: Mapping[str, Any], *, filer: str, at: datetime, entry: int) -> ReportRecord:
    """The report a ``report.filed`` event says, filed by ``filer`` at ``at`` in ``entry``.
    Raises :class:`KeyError`, :class:`TypeError` or :class:`ValueError` for a field of the
    wrong shape (the replay's anomaly)."""
    when = event["when"]
    if not isinstance(when, Mapping):
        raise TypeError("when is an object")
    end = when.get("end")
    where = event["where"]
    if where is not None and not isinstance(where, dict):
        raise TypeError("where is a geometry or null")
    return ReportRecord(
        id=_text(event["id"]),
        filer=filer,
        accused=_text(event["accused"]),
        what=_text(event["what"]),
        start=parse_instant(when["start"]),
        end=None if end is None else parse_instant(end),
        where=where,
        cites=_cites(event["cites"]),
        evidence=_evidence(event["evidence"]),
        filed_at=at,
        entry=entry,
    )


def answer_of(event: Mapping[str, Any], *, at: datetime, entry: int) -> AnswerRecord:
    """The answer a ``report.answered`` event says, given at ``at`` in ``entry`` (errors as
    :func:`report_of`)."""
    return AnswerRecord(
        text=_text(event["text"]),
        cites=_cites(event["cites"]),
        evidence=_evidence(event["evidence"]),
        answered_at=at,
        entry=entry,
    )


# --- the folds ------------------------------------------------------------------------------


def _cited_before(cites: tuple[int, ...], index: int) -> bool:
    return all(0 <= c < index for c in cites) and len(set(cites)) == len(cites)


def filed(replay: Replaying, record: Recorded) -> bool:
    """``report.filed``: a new report, signed by its filer — a party accusing another
    party or the center, or a monitor accusing any party or the center — citing only
    entries before it, about a time not after it was filed. (``center`` is no member's id:
    :data:`accord.agreement.CENTER` is reserved, so a report against a party in an older
    log folds as before.)"""
    agreement = replay.agreement
    reports = replay.part(REPORTS)
    report = report_of(record.event, filer=record.author, at=record.at, entry=record.index)
    if report.id in reports:
        return False
    if record.author not in agreement.party_ids | agreement.monitor_ids:
        return False
    if report.accused != CENTER and (
        report.accused not in agreement.party_ids or report.accused == record.author
    ):
        return False
    if not _cited_before(report.cites, record.index):
        return False
    last = report.start if report.end is None else report.end
    if report.start > last or last > record.at:
        return False
    reports[report.id] = report
    return True


def answered(replay: Replaying, record: Recorded) -> bool:
    """``report.answered``: the accused party's one answer to a known report, citing only
    entries before it. A report against the center has none: the center's answer is its
    signed heads and the record, and no member's entry answers for it."""
    found = replay.part(REPORTS).get(_text(record.event["report"]))
    if found is None or found.accused == CENTER:
        return False
    if record.author != found.accused or found.answer is not None:
        return False
    answer = answer_of(record.event, at=record.at, entry=record.index)
    if not _cited_before(answer.cites, record.index):
        return False
    found.answer = answer
    return True
