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

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from accord.agreement import Agreement, ImminentThreatRule
from accord.center import visibility
from accord.center.airspace.entries import VIOLATION_EVENT
from accord.center.declarations.entries import HIDDEN
from accord.center.declarations.fold import DeclarationState
from accord.center.directline.fold import MESSAGES, MessageRecord
from accord.center.entry_kinds import Part, Recorded
from accord.center.identity import Caller
from accord.center.operations.entries import ACTIONS, REPORTED
from accord.center.operations.fold import OPERATIONS, OperationRecord
from accord.center.operations.world_cache import parse_features
from accord.center.picture import judge_checkpoints
from accord.center.picture.replay import Replay
from accord.center.picture.verified import (
    OpenedCache,
    hidden_openings,
    opened_cache,
    verified_log,
    verified_of,
    verified_opening,
)
from accord.center.picture.views import (
    ComplianceOut,
    Finding,
    PartyReport,
    instant_json,
    proof,
    reports_json,
)
from accord.center.reports.fold import REPORTS
from accord.center.reports.views import ReportOut, report_out
from accord.center.roles import Role
from accord.center.runtime import Center, CenterCache
from accord.chrono import format_instant, parse_instant
from accord.errors import AccordError, NotAuthorized, NotFound, RecordDamaged
from accord.record.log import MerkleLog
from accord.rules import DesignatedAreaIndex
from accord.rules.operations import TERMINAL, OperationStatus
from accord.world import FlightPlan

__all__ = [
    "JUDGE",
    "KINDS",
    "Judge",
    "Judged",
    "Judging",
    "compliance",
    "compliance_json",
    "findings",
    "party_json",
    "reports_of",
    "warm",
]

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

_log = logging.getLogger("accord.center")

_MAY_EXECUTE = frozenset({OperationStatus.APPROVED, OperationStatus.CLEARED})


@dataclass(frozen=True, slots=True)
class _Hidden:
    """A violation by a ``center`` flight plan: shown in full to its owner only."""

    finding: Finding


# --- operations -----------------------------------------------------------------------------


def _notices(
    agreement: Agreement,
    operations: Iterable[OperationRecord],
    reported: Mapping[int, Recorded],
    now: datetime,
) -> Iterator[Finding]:
    """Late and missing notices of imminent-threat ``operations`` (``reported``: the
    ``operation.reported`` entries, by index)."""
    by_index = reported
    for op in operations:
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


def _execution(agreement: Agreement, before: Replay, record: Recorded) -> Finding | None:
    """The finding of an ``operation.executed`` entry whose operation was not approved or
    cleared as the record stood just before it (``before``: the record folded up to it, the
    center's own entries too — its recheck, which may withdraw approvals, and the parts of a
    conflict list continued over several entries)."""
    event = record.event
    if event.get("kind") != EXECUTED:
        return None
    op: OperationRecord | None = before.find(OPERATIONS, str(event.get("operation")))
    settled = None if op is None else op.settled(agreement, record.at)
    status = None if settled is None else settled.status
    if status in _MAY_EXECUTE:
        return None
    was = "unknown to the record" if status is None else status.value
    return Finding(
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


# --- designated areas -----------------------------------------------------------------------


def _flight(
    session: Session, agreement: Agreement, index: DesignatedAreaIndex, d: DeclarationState
) -> Iterator[tuple[Finding, bool]]:
    """Designated-area violations by the flight plan ``d`` (in force); each with whether the
    flight plan is ``center`` (hidden from everyone but its owner)."""
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
        return
    try:
        (flight,) = parse_features(agreement, [feature], limits=False)
    except (AccordError, ValueError):
        return
    if not isinstance(flight, FlightPlan):
        return
    try:
        found = index.check(flight)
    except (AccordError, ValueError):
        return
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


def _tracks(agreement: Agreement, record: Recorded, origin: str) -> Iterator[Finding]:
    """Designated-area violations by live tracks: a center's ``airspace.violation`` entry
    about an aircraft of a party (it says only what every reader may know) — one alert per
    entry before groups, one per row of a group entry's ``findings`` since."""
    event = record.event
    if record.author != origin or event.get("kind") != VIOLATION_EVENT:
        return
    aircraft = event.get("aircraft")
    if not isinstance(aircraft, list) or not aircraft:
        return
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


def _acknowledgements(messages: Iterable[MessageRecord], now: datetime) -> Iterator[Finding]:
    for m in sorted(messages, key=lambda m: (m.sent_at, m.id)):
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


def _acknowledged_next(messages: Iterable[MessageRecord], now: datetime) -> datetime | None:
    """The earliest instant from ``now`` on at which :func:`_acknowledgements` may find
    otherwise than at ``now`` (a deadline passing with a recipient yet to acknowledge)."""
    return min(
        (
            m.ack_deadline
            for m in messages
            if m.ack_deadline >= now and any(p not in m.receipts for p in m.to)
        ),
        default=None,
    )


# --- the reports ----------------------------------------------------------------------------


class Judge:
    """The record folded for compliance, one entry at a time, and judged at any instant.

    What a report needs that does not change once an entry is folded is kept as the entry
    is applied: the replay (with the center's copies of the hidden entries' openings, each
    checked against its entry), the executions found without approval (judged against a
    second replay, without openings, of the entries before each), the live tracks'
    designated-area violations, the ``operation.reported`` entries; and each flight plan's
    designated-area check, kept by the entry that declared its content. What depends on the
    instant — notices due, acknowledgements overdue — is judged by :meth:`judged` from the
    folded state, never from the entries again: a report costs what the state holds, not
    what the record does.

    The service keeps one (:data:`JUDGE`) and extends it with the entries verified since
    (:func:`compliance`); :func:`findings` folds a record at once. A ``declaration.hidden``
    entry folded without an opening is kept aside (:attr:`stale` turns true if its opening
    checks later: the state is then folded again from the first entry).
    """

    def __init__(self, agreement: Agreement, origin: str) -> None:
        self.agreement = agreement
        self.origin = origin
        self._openings: dict[int, Mapping[str, Any]] = {}
        self.replay = Replay(agreement, origin, self._openings)
        self.replay.on_aside, self.replay.on_revive = self._settled, self._revived
        self._before = Replay(agreement, origin)
        self.replay.twin = self._before  # their done objects mostly the same bytes: held once
        self._kept: dict[tuple[str, str], list[Finding]] = {}
        """What an object set aside will always be found in breach of, by part and id."""
        self._ended: dict[str, tuple[int, list[Finding]]] = {}
        """The notices found of each operation that ended, by id: its entry then, and them
        (nothing an instant changes of an ended operation's notices)."""
        self._areas = DesignatedAreaIndex(agreement)
        self.size = 0
        """How many entries, from the first, are folded."""
        self.executions: list[Finding] = []
        self.tracks: list[Finding] = []
        self.reported: dict[int, Recorded] = {}
        self._flights: dict[tuple[str, int], list[tuple[Finding, bool]]] = {}
        self._flight_ids: set[str] = set()  # the declarations that are flight plans
        self._unopened: list[Recorded] = []
        self.stale = False
        self._judged: Judged | None = None

    def __getstate__(self) -> dict[str, Any]:
        """What a checkpoint pickles (:mod:`~accord.center.picture.judge_checkpoints`): the
        folded state, not the last judgement (made again at the first report)."""
        state = self.__dict__.copy()
        state["_judged"] = None
        return state

    def extend(
        self, session: Session, records: Sequence[Recorded], *, cache: OpenedCache | None
    ) -> None:
        """Fold ``records``, the entries that follow the ones folded (index :attr:`size`
        on); ``cache``: openings already checked."""
        if self._unopened and hidden_openings(session, self._unopened, cache=cache):
            self.stale = True  # an opening missing then checks now: fold everything again
        opened = hidden_openings(session, records, cache=cache)
        self._openings.update(opened)
        for record in records:
            if record.index != self.size:
                raise ValueError(f"entry {record.index} does not follow entry {self.size - 1}")
            if record.event.get("kind") == HIDDEN and record.index not in opened:
                self._unopened.append(record)
            found = _execution(self.agreement, self._before, record)
            if found is not None:
                self.executions.append(found)
            self._before.apply(record)
            self.tracks += _tracks(self.agreement, record, self.origin)
            if record.event.get("kind") == REPORTED:
                self.reported[record.index] = record
            self.replay.apply(record)
            self.size = record.index + 1
            declared = self._declaration(record)
            if declared is not None and declared.kind == "flight_plan":
                self._flight_ids.add(declared.id)
        self._openings.clear()  # each folded: the fold keeps what it read of it

    def _settled(self, key: Part[Any], object_id: str, found: Any, at: datetime) -> None:
        """An object set aside is done: nothing an instant changes of its findings (an
        operation ended a day before, a message every recipient acknowledged)."""
        kept: list[Finding] = []
        if key is OPERATIONS:
            self._ended.pop(object_id, None)
            kept = list(_notices(self.agreement, [found], self.reported, at))
        elif key is MESSAGES:
            kept = list(_acknowledgements([found], at))
        if kept:
            self._kept[key.name, object_id] = kept

    def _revived(self, key: Part[Any], object_id: str) -> None:
        """An object read back is judged as it stands again."""
        self._kept.pop((key.name, object_id), None)

    def _declaration(self, record: Recorded) -> DeclarationState | None:
        """The declaration an entry changed, as folded (a hidden one's id is in its opening)."""
        event = record.event
        if not str(event.get("kind", "")).startswith("declaration."):
            return None
        named = event.get("id")
        if named is None:
            named = self._openings.get(record.index, {}).get("id")
        return self.replay.declarations.get(str(named))

    def _flight(self, session: Session, d: DeclarationState) -> list[tuple[Finding, bool]]:
        key = (d.id, d.entry)
        kept = self._flights.get(key)
        if kept is None:
            kept = self._flights[key] = list(_flight(session, self.agreement, self._areas, d))
        return kept

    def judged(self, session: Session, now: datetime) -> list[Finding | _Hidden]:
        """Every finding the folded record proves at ``now``, unredacted (``center`` flight
        plans wrapped in :class:`_Hidden`). The same list while nothing was folded since and
        no deadline has passed (:attr:`Judged.until`): a report between two entries costs
        a look-up, not a judgement."""
        last = self._judged
        if (
            last is not None
            and last.size == self.size
            and last.at <= now
            and (last.until is None or now < last.until)
        ):
            return last.found
        replay = self.replay
        found: list[Finding | _Hidden] = []
        changes: list[datetime] = []  # when something judged here may next be found otherwise
        for op in replay.operations.values():
            if op.status not in _ENDED:
                if isinstance(self.agreement.categories.get(op.category), ImminentThreatRule):
                    found += _notices(self.agreement, [op], self.reported, now)
                    nxt = op.settles_next(self.agreement, now)
                    if nxt is not None:
                        changes.append(nxt)
                continue
            ended = self._ended.get(op.id)
            if ended is None or ended[0] != op.entry:
                ended = self._ended[op.id] = (
                    op.entry,
                    list(_notices(self.agreement, [op], self.reported, now)),
                )
            found += ended[1]
        found += self.executions
        declarations = replay.declarations
        for d in (declarations.get(i) for i in sorted(self._flight_ids)):
            if d is not None and d.kind == "flight_plan" and d.in_force:
                found += [_Hidden(f) if hidden else f for f, hidden in self._flight(session, d)]
        found += self.tracks
        messages = replay.messages.values()
        found += _acknowledgements(messages, now)
        acknowledged = _acknowledged_next(messages, now)
        if acknowledged is not None:
            changes.append(acknowledged)
        for kept in self._kept.values():
            found += kept
        self._judged = Judged(self.size, now, min(changes, default=None), found)
        return found


@dataclass(frozen=True, slots=True)
class Judged:
    """What a :class:`Judge` of ``size`` entries found at ``at``, and the instant ``until``
    which it holds (the first deadline from ``at`` on; None: no deadline is pending)."""

    size: int
    at: datetime
    until: datetime | None
    found: list[Finding | _Hidden]


@dataclass(slots=True)
class Judging:
    """A service's :class:`Judge` (made at the first report) and the lock whoever extends
    or judges it holds: reports run in threads, each folding what was verified since."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    judge: Judge | None = None
    written: dict[tuple[object, ...], bytes] = field(default_factory=dict)
    """Sections of reports as written (:func:`compliance_json`), for one judgement's list."""
    written_from: object | None = None
    """The list of findings ``written`` was written from (held: never another's by id)."""
    captured: judge_checkpoints.Captured | None = None
    """The judge pickled at a checkpoint's size, for the keeper to write
    (:func:`~accord.center.picture.judge_checkpoints.keep`)."""
    checkpointed: int = 0
    """The size of the last checkpoint captured or restored in this process."""


JUDGE: CenterCache[Judging] = CenterCache("the compliance judge", lambda _: Judging())
"""The key of each center's :class:`Judging` (see :mod:`accord.center.bootstrap`)."""


def findings(
    session: Session,
    agreement: Agreement,
    records: list[Recorded],
    origin: str,
    now: datetime,
    *,
    cache: OpenedCache | None = None,
) -> list[Finding | _Hidden]:
    """Every finding ``records`` (the record from its first entry) prove at ``now``,
    unredacted (``center`` flight plans wrapped in :class:`_Hidden`), folded at once;
    ``cache``: openings already checked
    (:func:`~accord.center.picture.verified.hidden_openings`)."""
    judge = Judge(agreement, origin)
    judge.extend(session, records, cache=cache)
    return judge.judged(session, now)


def _judge_of(
    center: Center,
    session: Session,
    log: MerkleLog,
    now: datetime,
    *,
    halt: threading.Event | None = None,
) -> Judge:
    """The service's judge folded up to the record's prefix at ``now``: the entries verified
    since the last report folded into it (only those are read) — or, the first time in this
    process, the newest checkpoint's judge (:mod:`~accord.center.picture.judge_checkpoints`)
    folded on from there — or a judge folded afresh when the prefix is shorter than what it
    folded (a clock set back: that judge is kept for later) or it went stale. The caller
    holds the :class:`Judging`'s lock. With ``halt`` (the start-up's warm-up), the fold stops
    at the first chunk's end after ``halt`` is set: the judge kept has folded a prefix, and
    the next report folds on from there."""
    judging = center.cache(JUDGE)
    verified = verified_of(center)
    size = verified.size_at(log, until=now)
    judge = judging.judge
    if judge is None:
        judge = judge_checkpoints.restore(center, session, size, kind=Judge)
        if judge is not None:
            judging.judge, judging.checkpointed = judge, judge.size
    if judge is not None and not judge.stale and size >= judge.size:
        _fold_on(center, session, log, judge, size, judging, halt=halt)
        if not judge.stale:
            return judge
    fresh = Judge(center.agreement, center.origin)
    _fold_on(center, session, log, fresh, size, judging, halt=halt)
    if judge is None or judge.stale or judge.size <= size:
        judging.judge = fresh
    return fresh


_ENDED = frozenset(status.value for status in TERMINAL)

FOLD_CHUNK = 10_000
"""How many entries a judge is extended with at a time: a judge folded afresh over a week's
million entries never holds them all read at once."""


def _fold_on(
    center: Center,
    session: Session,
    log: MerkleLog,
    judge: Judge,
    size: int,
    judging: Judging,
    *,
    halt: threading.Event | None = None,
) -> None:
    """Extend ``judge`` with the entries after those it folded, up to ``size``, a chunk at a
    time (stopping once it goes stale, or at a chunk's end once ``halt`` is set); crossing a
    checkpoint's size (:func:`~accord.center.picture.judge_checkpoints.every`) newer than the
    last, it stops there first and captures itself for the keeper."""
    verified, cache = verified_of(center), opened_cache(center)
    step = judge_checkpoints.every(verified)
    mark = size // step * step
    if mark <= max(judge.size, judging.checkpointed):
        mark = 0
    stops = set(range(judge.size + FOLD_CHUNK, size, FOLD_CHUNK)) | {size}
    start = judge.size
    for stop in sorted(stops | ({mark} if mark else set())):
        if stop <= start:
            continue  # nothing new: no read, no fold (a report between two entries)
        if halt is not None and halt.is_set():
            return  # a whole prefix folded: the next report goes on from it
        records, _ = verified.read(log, start=start, stop=stop)
        judge.extend(session, records, cache=cache)
        if judge.stale:
            return
        if stop == mark:
            judging.captured = judge_checkpoints.capture(judge)
            judging.checkpointed = mark
        start = stop


def captured(center: Center) -> judge_checkpoints.Captured | None:
    """The judge captured at a checkpoint's size since the last call, handed over to be
    written (:func:`~accord.center.picture.judge_checkpoints.keeper`), or None."""
    judging = center.cache(JUDGE)
    with judging.lock:
        taken, judging.captured = judging.captured, None
    return taken


def warm(center: Center, stop: threading.Event) -> None:
    """At start-up, once the record is verified: fold the service's judge, so that the first
    report does not wait for it (a record that does not verify is left for the reads to
    report). ``stop`` (the server stopping) ends the fold at its next chunk's end: a week's
    million entries folded without a checkpoint take a minute, which a SIGTERM's drain
    must not wait for."""
    if stop.is_set():
        return
    try:
        with center.reading() as session, center.cache(JUDGE).lock:
            log = verified_log(center, session)
            _judge_of(center, session, log, center.now(), halt=stop)
    except RecordDamaged as error:
        _log.error("the record does not verify: %s", error)


def _own(viewer: Caller, party: str) -> bool:
    """Whether ``viewer`` sees ``party``'s ``center`` flight plans' violations in full."""
    return viewer.member == party and viewer.role in (Role.OFFICER, Role.APPROVER)


def _cut(found: list[Finding | _Hidden], party: str, *, own: bool) -> list[Finding]:
    """``party``'s findings as a viewer sees them (``own``: one of its officers or
    approvers, who see its ``center`` flight plans' violations in full)."""
    shown = [f for f in found if isinstance(f, Finding) and f.party == party]
    hidden = [h.finding for h in found if isinstance(h, _Hidden) and h.finding.party == party]
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


def _report(found: list[Finding | _Hidden], party: str, *, own: bool) -> PartyReport:
    cut = _cut(found, party, own=own)
    counts = {kind: sum(f.count for f in cut if f.kind == kind) for kind in KINDS}
    return PartyReport(party=party, findings=cut, counts=counts)


def _parties(agreement: Agreement, caller: Caller, party: str | None) -> list[str]:
    if caller.role not in visibility.COMPLIANCE_READERS:
        raise NotAuthorized(f"a {caller.role.value} does not read compliance reports")
    if party is None:
        return sorted(agreement.party_ids)
    if party not in agreement.party_ids:
        raise NotFound("no such party")
    return [party]


def compliance(center: Center, caller: Caller, party: str | None = None) -> ComplianceOut:
    """Every party's report (or ``party``'s) as ``caller`` may see it, judged now.

    Raises :class:`~accord.errors.NotAuthorized` for notifiers and administrators,
    :class:`~accord.errors.NotFound` for a party the agreement does not name and
    :class:`~accord.errors.RecordDamaged` when the record does not verify.
    """
    parties = _parties(center.agreement, caller, party)
    now = center.now()
    with center.reading() as session, center.cache(JUDGE).lock:
        judge = _judge_of(center, session, verified_log(center, session), now)
        size = judge.size
        found = judge.judged(session, now)
        reports = reports_of(judge.replay, caller, party)
    return ComplianceOut(
        at=now,
        proof=proof(center, size),
        parties=[_report(found, p, own=_own(caller, p)) for p in parties],
        reports=reports,
    )


def compliance_json(center: Center, caller: Caller, party: str | None = None) -> bytes:
    """:func:`compliance` as JSON: the bytes ``ComplianceOut.model_dump_json`` writes.

    Each party's report, as its own officers and approvers or as everyone else sees it, and
    the list of reports filed are written once per judgement (:meth:`Judge.judged`: until an
    entry is folded or a deadline passes) and reused by every request until then: at a
    week's end a report is 3.3 MB of JSON, which took 30 ms to write and 40 ms to cut and
    sort. Raises as :func:`compliance`.
    """
    now, size, sections, reports = _written(center, caller, party, reports=True)
    return b"".join(
        [
            b'{"at":',
            instant_json(now),
            b',"proof":',
            proof(center, size).model_dump_json().encode(),
            b',"parties":[',
            b",".join(sections),
            b'],"reports":',
            reports,
            b"}",
        ]
    )


def party_json(center: Center, caller: Caller, party: str) -> bytes:
    """``party``'s report alone as JSON (the bytes ``PartyReport.model_dump_json`` writes),
    written once per judgement as in :func:`compliance_json`. Raises as :func:`compliance`."""
    _, _, (section,), _ = _written(center, caller, party, reports=False)
    return section


def _written(
    center: Center, caller: Caller, party: str | None, *, reports: bool
) -> tuple[datetime, int, list[bytes], bytes]:
    """The instant judged, the size of the prefix, each party's report as ``caller`` sees it
    and (with ``reports``) the reports filed, as JSON: written once per judgement."""
    parties = _parties(center.agreement, caller, party)
    now = center.now()
    judging = center.cache(JUDGE)
    with center.reading() as session, judging.lock:
        judge = _judge_of(center, session, verified_log(center, session), now)
        found = judge.judged(session, now)
        if judging.written_from is not found:
            judging.written.clear()
            judging.written_from = found
        written = judging.written
        sections = []
        for p in parties:
            own = _own(caller, p)
            key: tuple[object, ...] = ("party", p, own)
            if key not in written:
                written[key] = _report(found, p, own=own).model_dump_json().encode()
            sections.append(written[key])
        filed = b""
        if reports:
            key = ("reports", party, visibility.sees_report(caller))
            if key not in written:
                written[key] = reports_json(reports_of(judge.replay, caller, party))
            filed = written[key]
        return now, judge.size, sections, filed


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
