"""Compliance, per party, computed from the record: late or missing notices, executions
without approval, designated-area violations and overdue acknowledgements.

Beside the findings, the incident and violation reports filed by monitors and parties
(:mod:`accord.center.reports`) and the accused parties' answers, as the same replay folds
them: what the record proves was reported and answered, not a judgement of it. Reports
against the center itself (``accused``: ``center``) are listed with the others, never
dropped, and stay open (nobody answers for the center); the one-party report
(``GET /v1/compliance/{party}``) is a party's findings and holds no reports.

Everything is judged from the signed record read, checked and folded by
:mod:`accord.center.picture.replay` (the same replay as the picture's), at the instant of
the request: a notice becomes *missing* when its deadline passes, and an acknowledgement
*overdue* when its deadline does, whether or not an entry says so yet. Each
:class:`~accord.center.picture.views.Finding` names its kind, the party held to it, the
object it is about, the record entries that prove it (anyone holding the record checks
them), when it happened and a short detail.

**Kinds.**

* ``late_notification`` — an imminent-threat operation reported after ``executed_at`` plus
  the category's ``notify_within`` (proved by the ``operation.reported`` entry; the detail
  says when the entry itself does not carry the breach, which the rules always write);
* ``missing_notification`` — an imminent-threat operation executed unilaterally and not
  notified by its deadline (a ``breach`` step in the record, or due by now);
* ``execution_without_approval`` — an ``operation.executed`` entry whose operation, as the
  record stood just before it (settled to its instant), was neither ``approved`` nor
  ``cleared``. The service refuses such a step, so this checks the record itself;
* ``designated_area`` — a flight plan in force now entering a designated area closed to its
  operator (:class:`accord.rules.DesignatedAreaIndex`), held to the party that declared it;
  and a live track of a party's aircraft found inside or heading into one (the center's
  ``airspace.violation`` entry, which names a ``center`` aircraft by its party only);
* ``overdue_acknowledgement`` — a direct-line recipient that acknowledged after the
  deadline, or has not acknowledged and the deadline has passed (proved by the
  ``message.sent`` entry, the center's ``message.escalated`` / ``message.overdue`` entries
  and the late ``message.acknowledged`` entry).

**Disclosure.** Every party sees every party's report — compliance is about holding each
other to the agreement — and monitors see them all, but with the disclosure rules intact: a
flight plan declared ``center`` is judged by the center from its stored opening (checked
against the record's commitment before the fold reads it: a ``declaration.hidden`` entry
names no flight plan until then) and is shown in full only to its owner's users; everyone
else gets one ``designated_area`` finding per party with ``count`` and no entry, no id and
no detail of where (the entry would tell which hidden flight plan it is). Nothing else a
finding says is beyond what the record already tells every reader. Notifiers and
administrators get 403.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from accord.agreement import Agreement, ImminentThreatRule
from accord.center import visibility
from accord.center.airspace.entries import VIOLATION_EVENT
from accord.center.entry_kinds import Recorded
from accord.center.identity import Caller
from accord.center.operations.entries import ACTIONS, REPORTED
from accord.center.operations.fold import OperationRecord
from accord.center.operations.world_cache import parse_features
from accord.center.picture.replay import Replay
from accord.center.picture.verified import (
    OpenedCache,
    hidden_openings,
    opened_cache,
    verified_opening,
    verified_record,
)
from accord.center.picture.views import ComplianceOut, Finding, PartyReport, proof
from accord.center.reports.fold import REPORTS
from accord.center.reports.views import ReportOut, report_out
from accord.center.roles import Role
from accord.center.runtime import Center
from accord.chrono import format_instant, parse_instant
from accord.errors import AccordError, NotAuthorized, NotFound
from accord.rules import DesignatedAreaIndex
from accord.rules.operations import OperationStatus
from accord.world import FlightPlan

__all__ = ["KINDS", "compliance", "findings", "reports_of"]

EXECUTED = ACTIONS["execute"]
"""The kind of an execution's entry (the operations' registry names it)."""

KINDS = (
    "late_notification",
    "missing_notification",
    "execution_without_approval",
    "designated_area",
    "overdue_acknowledgement",
)
"""Every kind of finding, in the order reports count them."""

_MAY_EXECUTE = frozenset({OperationStatus.APPROVED, OperationStatus.CLEARED})


@dataclass(frozen=True, slots=True)
class _Hidden:
    """A violation by a ``center`` flight plan: shown in full to its owner only."""

    finding: Finding


# --- operations -----------------------------------------------------------------------------


def _notices(
    agreement: Agreement, replay: Replay, records: list[Recorded], now: datetime
) -> Iterator[Finding]:
    """Late and missing notices of imminent-threat operations."""
    by_index = {r.index: r for r in records}
    for op in replay.operations.values():
        rule = agreement.categories.get(op.category)
        if not isinstance(rule, ImminentThreatRule):
            continue
        first = by_index.get(op.entries[0])
        recorded_late = [b for b in op.breaches if b.get("kind") == "late_notification"]
        if first is not None and first.event.get("kind") == REPORTED:
            executed = op.executed_at
            if executed is not None:
                deadline = executed + rule.notify_within
                if first.at > deadline or recorded_late:
                    detail = (
                        f"operation {op.id}: executed at {format_instant(executed)}, reported "
                        f"at {format_instant(first.at)}, after the deadline "
                        f"{format_instant(deadline)}"
                    )
                    if not recorded_late:
                        detail += "; the entry does not record the breach"
                    elif first.at <= deadline:
                        detail = f"operation {op.id}: the entry records a late notification"
                    yield Finding(
                        kind="late_notification",
                        party=op.proposed_by,
                        subject=op.id,
                        entries=[first.index],
                        at=first.at,
                        detail=detail,
                    )
        missing = [b for b in op.breaches if b.get("kind") == "missing_notification"]
        settled = op.settled(agreement, now)
        if settled is not None and not missing:
            missing = [
                {"at": format_instant(b.at), "detail": b.detail}
                for b in settled.breaches
                if b.kind == "missing_notification"
            ]
        for breach in missing[:1]:
            yield Finding(
                kind="missing_notification",
                party=op.proposed_by,
                subject=op.id,
                entries=list(op.entries),
                at=parse_instant(breach["at"]),
                detail=str(breach.get("detail") or f"operation {op.id} was not notified"),
            )


def _executions(agreement: Agreement, records: list[Recorded], origin: str) -> Iterator[Finding]:
    """``operation.executed`` entries of operations that were not approved or cleared, as
    the record stood just before each (the center's own entries folded too: its recheck,
    which may withdraw approvals, and the parts of a conflict list continued over several
    entries)."""
    replay = Replay(agreement, origin)
    for record in records:
        event = record.event
        if event.get("kind") == EXECUTED:
            op: OperationRecord | None = replay.operations.get(str(event.get("operation")))
            before = None if op is None else op.settled(agreement, record.at)
            status = None if before is None else before.status
            if status not in _MAY_EXECUTE:
                was = "unknown to the record" if status is None else status.value
                yield Finding(
                    kind="execution_without_approval",
                    party=record.author,
                    subject=None if op is None else op.id,
                    entries=[record.index] + ([] if op is None else [op.entry]),
                    at=record.at,
                    detail=(
                        f"{record.author} recorded the execution of operation "
                        f"{event.get('operation')} while it was {was}"
                    ),
                )
        replay.apply(record)


# --- designated areas -----------------------------------------------------------------------


def _flights(
    session: Session, agreement: Agreement, replay: Replay
) -> Iterator[tuple[Finding, bool]]:
    """Designated-area violations by flight plans in force; each with whether the flight
    plan is ``center`` (hidden from everyone but its owner)."""
    index = DesignatedAreaIndex(agreement)
    for d in sorted(replay.declarations.values(), key=lambda d: d.id):
        if d.kind != "flight_plan" or not d.in_force:
            continue
        hidden = not visibility.in_clear(d.disclosure)
        feature = d.content
        if d.opened is not None:  # a hidden entry's opening, checked when folded
            feature = d.opened
        elif hidden:
            opened = (
                None
                if d.commitment is None
                else verified_opening(session, d.owner, d.entry, d.commitment)
            )
            feature = opened if isinstance(opened, dict) else None
        if feature is None:
            continue
        try:
            (flight,) = parse_features(agreement, [feature], limits=False)
        except (AccordError, ValueError):
            continue
        if not isinstance(flight, FlightPlan):
            continue
        try:
            found = index.check(flight)
        except (AccordError, ValueError):
            continue
        for area in found:
            if area.verdict != "violation":
                continue
            where = "" if area.entry_at is None else f" at {format_instant(area.entry_at)}"
            yield (
                Finding(
                    kind="designated_area",
                    party=d.owner,
                    subject=d.id,
                    entries=[d.entry],
                    at=area.entry_at,
                    detail=(
                        f"flight plan {d.id} (operator {area.operator}, mission "
                        f"{area.mission}) enters designated area {area.area_id}{where}"
                    ),
                ),
                hidden,
            )


def _tracks(agreement: Agreement, records: list[Recorded], origin: str) -> Iterator[Finding]:
    """Designated-area violations by live tracks: the center's ``airspace.violation``
    entries about an aircraft of a party (they say only what every reader may know) — one
    alert per entry before groups, one per row of a group entry's ``findings`` since."""
    for record in records:
        event = record.event
        if record.author != origin or event.get("kind") != VIOLATION_EVENT:
            continue
        aircraft = event.get("aircraft")
        if not isinstance(aircraft, list) or not aircraft:
            continue
        for subject, one, inside, at_text in _violations(event, aircraft):
            if not isinstance(one, dict):
                continue
            party = one.get("party")
            if party not in agreement.party_ids:
                continue
            name = one.get("id") or f"an aircraft of {party}"
            try:
                at = parse_instant(str(at_text))
            except ValueError:
                at = record.at
            where = "inside" if inside else "heading into"
            yield Finding(
                kind="designated_area",
                party=str(party),
                subject=subject,
                entries=[record.index],
                at=at,
                detail=(
                    f"track {name} (operator {one.get('operator')}) {where} designated "
                    f"area {event.get('area')}"
                ),
            )


def _violations(
    event: Mapping[str, Any], aircraft: list[Any]
) -> Iterator[tuple[str, Any, Any, Any]]:
    """(alert id, aircraft, inside, entry time) of each violation an entry records: a group
    entry's rows (columns ``fields``; times in seconds after ``raised_at``), or the one
    alert of an entry written before groups."""
    group, rows = event.get("group"), event.get("findings")
    if group is None or not isinstance(rows, list):
        yield str(event.get("alert")), aircraft[0], event.get("inside"), event.get("entry_at")
        return
    fields = event.get("fields") or []
    try:
        raised = parse_instant(str(event.get("raised_at")))
    except ValueError:
        return
    for n, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(fields):
            continue
        item = dict(zip(fields, row, strict=True))
        k = item.get("aircraft")
        if not isinstance(k, int) or not 0 <= k < len(aircraft):
            continue
        seconds = item.get("entry_s")
        at = raised + timedelta(seconds=seconds) if isinstance(seconds, int | float) else raised
        yield f"{group}.{n}", aircraft[k], item.get("inside"), format_instant(at)


# --- the direct line ------------------------------------------------------------------------


def _acknowledgements(replay: Replay, now: datetime) -> Iterator[Finding]:
    for m in sorted(replay.messages.values(), key=lambda m: (m.sent_at, m.id)):
        for party in m.to:
            receipt = m.receipts.get(party)
            steps = [s.entry for s in m.steps.get(party, [])]
            deadline = format_instant(m.ack_deadline)
            if receipt is not None and receipt.at > m.ack_deadline:
                yield Finding(
                    kind="overdue_acknowledgement",
                    party=party,
                    subject=m.id,
                    entries=[m.entry, *steps, receipt.entry],
                    at=receipt.at,
                    detail=(
                        f"message {m.id} from {m.sender} acknowledged at "
                        f"{format_instant(receipt.at)}, after its deadline {deadline}"
                    ),
                )
            elif receipt is None and (now > m.ack_deadline or steps):
                declared = any(s.kind == "overdue" for s in m.steps.get(party, []))
                yield Finding(
                    kind="overdue_acknowledgement",
                    party=party,
                    subject=m.id,
                    entries=[m.entry, *steps],
                    at=m.ack_deadline,
                    detail=(
                        f"message {m.id} from {m.sender} not acknowledged; its deadline was "
                        f"{deadline}" + ("; declared overdue by the center" if declared else "")
                    ),
                )


# --- the reports ----------------------------------------------------------------------------


def findings(
    session: Session,
    agreement: Agreement,
    records: list[Recorded],
    origin: str,
    now: datetime,
    *,
    cache: OpenedCache | None = None,
) -> list[Finding | _Hidden]:
    """Every finding the record proves at ``now``, unredacted (``center`` flight plans
    wrapped in :class:`_Hidden`); ``cache``: openings already checked
    (:func:`~accord.center.picture.verified.hidden_openings`)."""
    replay = _replayed(session, agreement, records, origin, cache)
    return _judged(session, agreement, records, origin, now, replay)


def _replayed(
    session: Session,
    agreement: Agreement,
    records: list[Recorded],
    origin: str,
    cache: OpenedCache | None,
) -> Replay:
    """The record folded, with the center's copies of the hidden entries' openings, each
    checked against its entry."""
    opened = hidden_openings(session, records, cache=cache)
    return Replay(agreement, origin, opened).fold(records)


def _judged(
    session: Session,
    agreement: Agreement,
    records: list[Recorded],
    origin: str,
    now: datetime,
    replay: Replay,
) -> list[Finding | _Hidden]:
    """:func:`findings`, of the record already folded into ``replay``."""
    found: list[Finding | _Hidden] = [*_notices(agreement, replay, records, now)]
    found += _executions(agreement, records, origin)
    found += [_Hidden(f) if hidden else f for f, hidden in _flights(session, agreement, replay)]
    found += _tracks(agreement, records, origin)
    found += _acknowledgements(replay, now)
    return found


def _cut(found: list[Finding | _Hidden], viewer: Caller, party: str) -> list[Finding]:
    """``party``'s findings as ``viewer`` may see them."""
    shown = [f for f in found if isinstance(f, Finding) and f.party == party]
    hidden = [h.finding for h in found if isinstance(h, _Hidden) and h.finding.party == party]
    own = viewer.member == party and viewer.role in (Role.OFFICER, Role.APPROVER)
    if own:
        shown += hidden
    elif hidden:
        shown.append(
            Finding(
                kind="designated_area",
                party=party,
                subject=None,
                entries=[],
                at=None,
                detail=(
                    f"{len(hidden)} designated-area violation(s) by flight plans {party} "
                    "declared at disclosure 'center', judged by the center; details withheld"
                ),
                count=len(hidden),
            )
        )
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(
        shown,
        key=lambda f: (f.at is None, f.at or datetime.min, order[f.kind], f.entries),
    )


def _report(found: list[Finding | _Hidden], viewer: Caller, party: str) -> PartyReport:
    cut = _cut(found, viewer, party)
    counts = {kind: sum(f.count for f in cut if f.kind == kind) for kind in KINDS}
    return PartyReport(party=party, findings=cut, counts=counts)


def compliance(center: Center, caller: Caller, party: str | None = None) -> ComplianceOut:
    """Every party's report (or ``party``'s) as ``caller`` may see it, judged now.

    Raises :class:`~accord.errors.NotAuthorized` for notifiers and administrators,
    :class:`~accord.errors.NotFound` for a party the agreement does not name and
    :class:`~accord.errors.RecordDamaged` when the record does not verify.
    """
    if caller.role not in visibility.COMPLIANCE_READERS:
        raise NotAuthorized(f"a {caller.role.value} does not read compliance reports")
    agreement = center.agreement
    parties = sorted(agreement.party_ids)
    if party is not None:
        if party not in agreement.party_ids:
            raise NotFound("no such party")
        parties = [party]
    now = center.now()
    with center.reading() as session:
        records, size = verified_record(center, center.log(session), until=now)
        replay = _replayed(session, agreement, records, center.origin, opened_cache(center))
        found = _judged(session, agreement, records, center.origin, now, replay)
    return ComplianceOut(
        at=now,
        proof=proof(center, size),
        parties=[_report(found, caller, p) for p in parties],
        reports=reports_of(replay, caller, party),
    )


def reports_of(replay: Replay, reader: Caller, party: str | None = None) -> list[ReportOut]:
    """The incident and violation reports the record tells of (against ``party``, or
    every one: against a party or the center), each with its answer or null, newest
    first — as ``reader`` may see them (every member may:
    :func:`~accord.center.visibility.sees_report`)."""
    if not visibility.sees_report(reader):
        return []
    found = replay.part(REPORTS).values()
    chosen = [r for r in found if party is None or r.accused == party]
    return [report_out(r) for r in sorted(chosen, key=lambda r: r.entry, reverse=True)]
