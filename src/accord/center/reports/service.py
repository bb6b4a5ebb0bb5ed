"""Incident and violation reports (ceasefire monitoring, DECISIONS 16): a monitor or a party
files a report against a party or against the center itself, and the accused party may
answer it — each a signed record entry, the filer's or the accused's own act.

**A report** says what happened (``what``), when (``when.start``, ``when.end`` or null for
an instant), where (a GeoJSON geometry or null), which record entries it cites (``cites``:
indices of entries already in the record) and the SHA-256 of each piece of its evidence
(``evidence``: the evidence stays with whoever holds it; its hash in the record pins it).
The entry ``report.filed``, signed by the filer, holds the report **in clear**: reports are
public to every member of the agreement (:func:`accord.center.visibility.sees_report`), and
the server gives it its id, ``r-`` and 16 hex digits. A party accuses another party, never
itself; a monitor any party. Officers, approvers and monitors file; notifiers and
administrators do not.

**Against the center.** Any filer may accuse the center itself (``accused``:
:data:`~accord.agreement.CENTER`, an id no member may take): it signed two histories,
rewrote or rolled back its log, withheld it, kept an opening that does not open a
commitment — what ``accord monitor`` finds. Such a report is filed, recorded and listed like
any other (every member reads it; ``GET /v1/compliance`` lists it), but **nobody answers it
through Accord**: the center holds no party's key and its own signature on an answer would
prove nothing to a party that distrusts it; its answer is what it already signed — its
heads and the record, which anyone checks with ``accord verify`` — and whoever operates the
center answers outside Accord. ``POST /v1/reports/{id}/answer`` on it is a 403 saying so
(:func:`answer_report`), the record's fold refuses a ``report.answered`` entry for it (an
anomaly), and it stays ``open``.

**An answer** is the accused party's own (its officer's or approver's act): ``text``,
``cites`` and ``evidence`` under the same rules, once per report — the entry
``report.answered``, signed by the accused.

**Size.** Every entry is at most 64 KiB (DECISIONS 12), so the caps are sized for the worst
case to fit, envelope and act included: ``what`` and ``text`` up to :data:`TEXT_MAX`
characters with no control characters but tab and line breaks (at most 4 bytes each in the
entry), up to :data:`CITES_MAX` cited entries and :data:`EVIDENCE_MAX` pieces of evidence
(a name up to :data:`NAME_MAX` printable characters), and a geometry of up to
:data:`~accord.center.checks.geometry.MAX_POSITIONS` positions whose canonical JSON
takes at most :data:`WHERE_MAX_BYTES` bytes (coordinates are kept exactly as given).

Bad input is an :class:`~accord.errors.InputError` naming every bad field
(``where.coordinates[3]``, ``evidence[1].sha256``); nothing is written. Every write takes the
unit of work first, then the caller and what was asked, then ``at`` (the center's now).
How the picture folds both kinds: :mod:`accord.center.reports.fold`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.agreement import CENTER, Agreement
from accord.center import visibility
from accord.center.checks.geometry import check_geometry
from accord.center.db.models_reports import Report
from accord.center.entry_kinds import Signer, entry_kind
from accord.center.event_store import publish
from accord.center.identity import Caller
from accord.center.reports import fold
from accord.center.reports.fold import ReportRecord
from accord.center.reports.queries import record_of
from accord.center.roles import Role
from accord.center.runtime import Unit
from accord.chrono import format_instant, parse_instant
from accord.errors import (
    IllegalTransition,
    InputError,
    Issue,
    NotAuthorized,
    NotFound,
    field_path,
    shown,
)
from accord.record.canonical import canonical_json

__all__ = [
    "ANSWERED_ENTRY",
    "ANSWERED_EVENT",
    "CITES_MAX",
    "EVENT_MAX_BYTES",
    "EVIDENCE_MAX",
    "FILED_ENTRY",
    "FILED_EVENT",
    "FILERS",
    "NAME_MAX",
    "TEXT_MAX",
    "WHERE_MAX_BYTES",
    "Answer",
    "Filing",
    "answer_report",
    "check_answer",
    "check_report",
    "file_report",
]

FILED_EVENT = "report.filed"
ANSWERED_EVENT = "report.answered"

FILED_ENTRY = entry_kind(
    FILED_EVENT, signer=Signer.MEMBER,
    required=("id", "accused", "what", "when", "where", "cites", "evidence"),
    fold=fold.filed,
    summary="a monitor or a party files an incident or violation report against a party or "
    "the center",
    acts=("POST /v1/reports",),
)  # fmt: skip
ANSWERED_ENTRY = entry_kind(
    ANSWERED_EVENT, signer=Signer.MEMBER, required=("report", "text", "cites", "evidence"),
    fold=fold.answered, summary="the accused party answers a report against it",
    acts=("POST /v1/reports/{report}/answer",),
)  # fmt: skip

TEXT_MAX = 4000
"""The most characters of a report's ``what`` and an answer's ``text``."""
NAME_MAX = 200
"""The most characters of a piece of evidence's name."""
CITES_MAX = 64
"""The most record entries a report or an answer cites."""
EVIDENCE_MAX = 32
"""The most pieces of evidence a report or an answer names."""
WHERE_MAX_BYTES = 12_288
"""The most bytes of a report's geometry in canonical JSON (as the entry holds it)."""
EVENT_MAX_BYTES = 60_000
"""The most bytes of canonical JSON a report's or an answer's event takes: the worst case
the caps allow (about 58 KB: ``what`` 16,000, ``evidence`` 28,416, ``where`` 12,288, ``cites``
1,088 and the rest) fits, and the entry around it (envelope, the act, signatures: under
2 KB) stays under 64 KiB (DECISIONS 12)."""

FILERS = (Role.OFFICER, Role.APPROVER, Role.MONITOR)
"""The roles that file reports (a party's officers and approvers, monitors)."""
_ANSWERERS = (Role.OFFICER, Role.APPROVER)
"""The roles of the accused party that answer for it."""
_BREAKS = frozenset("\t\n\r")
_HEX = frozenset("0123456789abcdef")


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filing:
    """A report as checked, before the server gives it its id."""

    accused: str
    what: str
    start: datetime
    end: datetime | None
    where: dict[str, Any] | None
    cites: tuple[int, ...]
    evidence: tuple[fold.Evidence, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer as checked."""

    text: str
    cites: tuple[int, ...]
    evidence: tuple[fold.Evidence, ...]


class _Issues:
    """The problems found so far, each naming its field."""

    def __init__(self) -> None:
        self.found: list[Issue] = []

    def add(self, field: str, message: str) -> None:
        self.found.append(Issue(field, message))

    def unknown(self, value: Mapping[str, Any], known: tuple[str, ...], prefix: str = "") -> None:
        for key in sorted(k for k in value if k not in known):
            name = shown(key) if isinstance(key, str) and key.isprintable() else "?"
            self.add(f"{prefix}{name}" if prefix else name, "unknown field")


def _control(c: str) -> bool:
    """Whether ``c`` is a control character (C0, DEL, C1) other than a tab or a break."""
    return (c < " " and c not in _BREAKS) or "\x7f" <= c < "\xa0"


def _text(issues: _Issues, field: str, value: Any) -> str | None:
    if not isinstance(value, str):
        issues.add(field, "must be text")
        return None
    if not value.strip():
        issues.add(field, "must not be empty")
        return None
    if len(value) > TEXT_MAX:
        issues.add(field, f"holds more than {TEXT_MAX} characters")
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        issues.add(field, "is not valid Unicode text")
        return None
    if any(_control(c) for c in value):
        issues.add(field, "holds a control character (only tabs and line breaks are allowed)")
        return None
    return value


def _cites(issues: _Issues, field: str, value: Any, size: int) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        issues.add(field, "must be an array of record entry indices")
        return ()
    if len(value) > CITES_MAX:
        issues.add(field, f"cites more than {CITES_MAX} entries")
        return ()
    out: list[int] = []
    for i, item in enumerate(value):
        where = field_path([field, i])
        if isinstance(item, bool) or not isinstance(item, int):
            issues.add(where, "a record entry's index is a whole number")
        elif not 0 <= item < size:
            issues.add(where, f"no such entry: the record holds entries 0 to {size - 1}")
        elif item in out:
            issues.add(where, "each entry is cited once")
        else:
            out.append(item)
    return tuple(out)


def _evidence(issues: _Issues, field: str, value: Any) -> tuple[fold.Evidence, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        issues.add(field, "must be an array of {sha256, name}")
        return ()
    if len(value) > EVIDENCE_MAX:
        issues.add(field, f"names more than {EVIDENCE_MAX} pieces of evidence")
        return ()
    out: list[fold.Evidence] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = field_path([field, i])
        if not isinstance(item, Mapping):
            issues.add(where, "a piece of evidence is an object {sha256, name}")
            continue
        issues.unknown(item, ("sha256", "name"), f"{where}.")
        digest = item.get("sha256")
        name = item.get("name")
        ok = True
        if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _HEX:
            issues.add(f"{where}.sha256", "the SHA-256 of the evidence: 64 lower-case hex digits")
            ok = False
        elif digest in seen:
            issues.add(f"{where}.sha256", "each piece of evidence is named once")
            ok = False
        else:
            seen.add(digest)
        if name is not None:
            if not isinstance(name, str) or not name or not name.isprintable():
                issues.add(f"{where}.name", "printable text, or null")
                ok = False
            elif len(name) > NAME_MAX:
                issues.add(f"{where}.name", f"holds more than {NAME_MAX} characters")
                ok = False
            else:
                try:
                    name.encode("utf-8")
                except UnicodeEncodeError:
                    issues.add(f"{where}.name", "is not valid Unicode text")
                    ok = False
        if ok and isinstance(digest, str):
            out.append(fold.Evidence(digest, name))
    return tuple(out)


def _instant(issues: _Issues, field: str, value: Any, now: datetime) -> datetime | None:
    if not isinstance(value, str):
        issues.add(field, "an ISO 8601 instant with its offset, e.g. 2026-09-21T16:00:00Z")
        return None
    try:
        instant = parse_instant(value)
    except ValueError as error:
        issues.add(field, str(error))
        return None
    if instant > now:
        issues.add(field, f"is later than the center's clock ({format_instant(now)})")
        return None
    return instant


def _when(
    issues: _Issues, value: Any, now: datetime
) -> tuple[datetime | None, datetime | None, bool]:
    """(start, end, whether both are good)."""
    if not isinstance(value, Mapping):
        issues.add("when", "an object {start, end}: ISO 8601 instants, end null for an instant")
        return None, None, False
    issues.unknown(value, ("start", "end"), "when.")
    before = len(issues.found)
    start = _instant(issues, "when.start", value.get("start"), now)
    raw_end = value.get("end")
    end = None if raw_end is None else _instant(issues, "when.end", raw_end, now)
    if start is not None and end is not None and end < start:
        issues.add("when.end", "is before when.start")
    return start, end, len(issues.found) == before


def _where(issues: _Issues, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        where = check_geometry(value)
    except InputError as bad:
        for issue in bad.issues:
            issues.add("where" + issue.field.removeprefix("geometry"), issue.message)
        return None
    size = len(canonical_json(where))
    if size > WHERE_MAX_BYTES:
        issues.add(
            "where",
            f"takes {size} bytes of canonical JSON, more than {WHERE_MAX_BYTES}: simplify it "
            "or cite a declaration that holds it",
        )
        return None
    return where


def check_report(
    agreement: Agreement, filer: str, body: Mapping[str, Any], *, now: datetime, size: int
) -> Filing:
    """Check a report ``filer`` (a member) files, against the agreement, the center's clock
    ``now`` and a record of ``size`` entries; raise :class:`~accord.errors.InputError`
    naming every bad field (see the module docstring).

    >>> from accord.agreement import load_agreement
    >>> from accord.examples import example_path
    >>> from datetime import UTC
    >>> jig = load_agreement(example_path("jig.yaml"))
    >>> now = datetime(2026, 9, 21, 16, tzinfo=UTC)
    >>> check_report(jig, "observers", {"accused": "red", "what": "Shelling at dawn.",
    ...     "when": {"start": "2026-09-21T05:10:00Z", "end": None}, "cites": [0]},
    ...     now=now, size=3).accused
    'red'
    >>> check_report(jig, "blue", {"accused": "center", "what": "Two histories.",
    ...     "when": {"start": "2026-09-21T05:10:00Z"}}, now=now, size=3).accused
    'center'
    >>> check_report(jig, "red", {"accused": "red", "what": "x",
    ...     "when": {"start": "2026-09-21T05:10:00Z"}}, now=now, size=3)
    Traceback (most recent call last):
    ...
    accord.errors.InputError: report: 1 problem
      field 'accused': a party does not accuse itself
    """
    issues = _Issues()
    if not isinstance(body, Mapping):
        raise InputError("report", [Issue("body", "a report is a JSON object")])
    issues.unknown(body, ("accused", "what", "when", "where", "cites", "evidence"))
    accused = body.get("accused")
    if accused == CENTER:
        pass  # any filer may accuse the center (see the module docstring)
    elif not isinstance(accused, str) or accused not in agreement.party_ids:
        parties = ", ".join(sorted(agreement.party_ids))
        issues.add("accused", f"whom the report accuses: one of {parties}, or {CENTER}")
    elif accused == filer:
        issues.add("accused", "a party does not accuse itself")
    what = _text(issues, "what", body.get("what"))
    start, end, _ = _when(issues, body.get("when"), now)
    where = _where(issues, body.get("where"))
    cites = _cites(issues, "cites", body.get("cites"), size)
    evidence = _evidence(issues, "evidence", body.get("evidence"))
    if issues.found:
        raise InputError("report", issues.found)
    assert isinstance(accused, str) and what is not None and start is not None
    return Filing(accused, what, start, end, where, cites, evidence)


def check_answer(body: Mapping[str, Any], *, size: int) -> Answer:
    """Check an answer to a report, against a record of ``size`` entries; raise
    :class:`~accord.errors.InputError` naming every bad field."""
    issues = _Issues()
    if not isinstance(body, Mapping):
        raise InputError("answer", [Issue("body", "an answer is a JSON object")])
    issues.unknown(body, ("text", "cites", "evidence"))
    text = _text(issues, "text", body.get("text"))
    cites = _cites(issues, "cites", body.get("cites"), size)
    evidence = _evidence(issues, "evidence", body.get("evidence"))
    if issues.found:
        raise InputError("answer", issues.found)
    assert text is not None
    return Answer(text, cites, evidence)


# --- filing and answering -------------------------------------------------------------------


def _encoded(event: Mapping[str, Any], what: str) -> bytes:
    """The event's canonical JSON; by the caps it is never over :data:`EVENT_MAX_BYTES`
    (should it be, the request is refused, naming ``what``, rather than the record grown
    past its limit)."""
    encoded = canonical_json(event)
    if len(encoded) > EVENT_MAX_BYTES:
        message = f"the {event['kind']} entry would take {len(encoded)} bytes: shorten it"
        raise InputError("report", [Issue(what, message)])
    return encoded


def file_report(unit: Unit, caller: Caller, body: Mapping[str, Any], at: datetime) -> ReportRecord:
    """File the report ``body`` (see the module docstring) for the caller's member at
    ``at``: the ``report.filed`` entry signed by the filer, its row and the live event to
    every member; the report as recorded.

    Raises :class:`~accord.errors.NotAuthorized` for a caller that files no reports (a
    notifier, an administrator) and :class:`~accord.errors.InputError` naming every bad
    field."""
    agreement = unit.center.agreement
    filer = caller.member
    members = agreement.party_ids | agreement.monitor_ids
    if caller.role not in FILERS or filer not in members:
        raise NotAuthorized(f"{filer} ({caller.role.value}) does not file reports")
    filing = check_report(agreement, filer, body, now=at, size=unit.ledger.log.size)
    report_id = "r-" + secrets.token_hex(8)
    event = FILED_ENTRY.build(
        id=report_id,
        accused=filing.accused,
        what=filing.what,
        when={
            "start": format_instant(filing.start),
            "end": None if filing.end is None else format_instant(filing.end),
        },
        where=filing.where,
        cites=list(filing.cites),
        evidence=[e.as_json() for e in filing.evidence],
    )
    encoded = _encoded(event, "what")
    entry = unit.ledger.append_encoded(encoded, author=filer, at=at)
    session = unit.session
    session.add(
        Report(
            id=report_id,
            filer=filer,
            accused=filing.accused,
            filed_by=caller.user_id,
            filed_at=at,
            entry=entry,
            content=encoded.decode("utf-8"),
        )
    )
    session.flush()
    report = fold.report_of(event, filer=filer, at=at, entry=entry)
    publish(
        session,
        kind=FILED_EVENT,
        at=at,
        audience=visibility.report_audience(agreement),
        payload=report.as_json(),
    )
    return report


def answer_report(
    unit: Unit, caller: Caller, report_id: str, body: Mapping[str, Any], at: datetime
) -> ReportRecord:
    """Answer the report ``report_id`` for the caller's party, the accused, at ``at``: the
    ``report.answered`` entry signed by it, the row and the live event to every member; the
    report with its answer.

    Raises :class:`~accord.errors.NotFound` for a report that does not exist,
    :class:`~accord.errors.NotAuthorized` for a report against the center (nobody answers
    it through Accord: see the module docstring) and for anyone but an officer or approver
    of the accused party, :class:`~accord.errors.IllegalTransition` when the report is
    answered already and :class:`~accord.errors.InputError` naming every bad field."""
    agreement = unit.center.agreement
    session = unit.session
    row = session.get(Report, report_id)
    if row is None:
        raise NotFound("no such report")
    if row.accused == CENTER:
        raise NotAuthorized(
            f"{report_id} accuses the center, and no member answers for the center: its "
            "answer is its signed heads and the record (check them with accord verify); "
            "whoever operates the center answers outside Accord"
        )
    if caller.role not in _ANSWERERS or caller.member != row.accused:
        raise NotAuthorized(f"only the accused party, {row.accused}, answers {report_id}")
    if row.answered_at is not None:
        raise IllegalTransition(f"{row.accused} has already answered {report_id}")
    answer = check_answer(body, size=unit.ledger.log.size)
    event = ANSWERED_ENTRY.build(
        report=report_id,
        text=answer.text,
        cites=list(answer.cites),
        evidence=[e.as_json() for e in answer.evidence],
    )
    encoded = _encoded(event, "text")
    entry = unit.ledger.append_encoded(encoded, author=caller.member, at=at)
    row.answered_at = at
    row.answered_by = caller.user_id
    row.answer_entry = entry
    row.answer = encoded.decode("utf-8")
    session.flush()
    report = record_of(row)
    assert report.answer is not None
    payload = {"id": report_id, "filer": row.filer, "accused": row.accused}
    publish(
        session,
        kind=ANSWERED_EVENT,
        at=at,
        audience=visibility.report_audience(agreement),
        payload={**payload, "answer": report.answer.as_json()},
    )
    return report
