"""A week of the record at a small scale (issue 24): :func:`bench.week.seed_week` writes it
through the service's own code into a rooted center's SQLite database — to the size asked,
every family of the mix and the kinds of entry each brings, spread over the seven days — and
the project's verifier accepts the record act by act."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.week import MIX, WEEK, seed_week

from accord.center.bootstrap import Parts
from accord.center.roles import Role
from accord.center.signing.service import agreement_document
from accord.cli_record import service_causes
from accord.record.verify import verify_log
from support.jig import NOW
from support.service import USERS, rooted_service
from support.users import entries_of_kind

ENTRIES = 2_000
START = NOW + timedelta(hours=1)

KINDS = {
    "airspace": {"airspace.conflict", "airspace.cleared", "airspace.acknowledged"},
    "declared": {"declaration.created", "declaration.hidden"},
    "amended": {"declaration.amended"},
    "withdrawn": {"declaration.withdrawn"},
    "operations": {
        "operation.proposed", "operation.approved", "operation.executed",
        "operation.completed", "operation.objected", "operation.reported",
    },
    "directline": {"message.sent", "message.checked", "message.acknowledged"},
}  # fmt: skip
"""What each family of the mix must have written."""

ESCALATIONS = {
    "airspace": {"airspace.escalated", "airspace.overdue"},
    "directline": {"message.escalated", "message.overdue"},
}
"""The center's escalation steps, one of which each family must have written."""


def test_a_small_week_has_its_size_its_mix_its_days_and_verifies(tmp_path: Path) -> None:
    with rooted_service(tmp_path) as service:  # the roots signed, every user's key registered
        settings, offices = service.settings, service.offices
    assert offices is not None and settings.agreement_path is not None
    keys = {user: offices.key(user) for user, (_, role) in USERS.items() if role is not Role.ADMIN}

    week = seed_week(
        settings.database_url, settings.keys_dir, entries=ENTRIES, seed=5,
        agreement_path=settings.agreement_path, keys=keys, start=START,
    )  # fmt: skip

    # the size asked (the last request's entries written whole), every kind counted
    assert ENTRIES <= week.size < ENTRIES + 50
    assert sum(week.kinds.values()) == week.entries == sum(week.families.values())
    assert week.refused < week.entries // 20
    # the mix: each family near its share, each with its kinds of entry
    for family, share in MIX.items():
        assert abs(week.families[family] / week.entries - share) < 0.03, family
        assert KINDS[family] <= set(week.kinds), (family, KINDS[family] - set(week.kinds))
    for family, steps in ESCALATIONS.items():
        assert steps & set(week.kinds), family
    assert week.families["receipts"] == week.kinds["declaration.acknowledged"] > 0

    center = Parts(settings, clock=lambda: week.last).open()
    try:
        entries = entries_of_kind(center, "")  # every entry, each verified on its own
        with center.reading() as session, (tmp_path / "record.jsonl").open("w") as out:
            center.log(session).export_jsonl(out)
        ring, mine = center.ring, agreement_document(center.agreement)
    finally:
        center.close()

    # the week's entries, over its seven days, about a seventh on each
    days = Counter((e.ts - START) // timedelta(days=1) for e in entries[-week.entries :])
    assert (week.first, week.last) == (entries[-week.entries].ts, entries[-1].ts)
    assert week.first >= START and week.last <= START + WEEK
    assert sorted(days) == list(range(7)), days
    assert min(days.values()) > week.entries / 7 * 0.7, days

    report = verify_log(
        tmp_path / "record.jsonl", keys=ring, workers=1, agreement=mine, causes=service_causes()
    )
    assert report.rooted and report.roots_pinned
    assert report.entries == week.size
    assert {member for member, *_ in report.acts} == {"blue", "red", "hnc"}
