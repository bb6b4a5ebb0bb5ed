"""The visibility policy is one rule in two forms: the SQL conditions select exactly the rows
the Python predicates accept, on random worlds and readers, on each backend; each audience
is exactly the members some reader of which may see; the conflict cut shows a reader exactly
the objects it may see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, select

from accord.agreement import Agreement, ObjectKind
from accord.center import visibility
from accord.center.identity import ROLE_KINDS
from accord.center.roles import Role
from accord.center.visibility import Viewer
from accord.deconfliction.conflicts import Conflict
from accord.world import Disclosure
from support.jig import AGREEMENT

MEMBERS = sorted(AGREEMENT.party_ids | AGREEMENT.notifier_ids | AGREEMENT.monitor_ids)
OWNERS = [*MEMBERS, "an-operator"]  # an aircraft's owner may be an operator, no member
DISCLOSURES = ["shared", "center"]

_meta = MetaData()
PROBE = Table(
    "visibility_probe",
    _meta,
    Column("n", Integer, primary_key=True),
    Column("owner", String(64)),
    Column("disclosure", String(8)),
    Column("acknowledger", String(64)),
)
MESSAGES = Table(
    "visibility_probe_messages", _meta, Column("n", Integer, primary_key=True),
    Column("sender", String(64)),
)  # fmt: skip
TO = Table(
    "visibility_probe_to", _meta, Column("n", Integer, primary_key=True),
    Column("message", Integer), Column("recipient", String(64)),
)  # fmt: skip

readers = st.builds(Viewer, st.sampled_from([*MEMBERS, "nobody-at-all"]), st.sampled_from(Role))
rows = st.lists(
    st.tuples(st.sampled_from(OWNERS), st.sampled_from(DISCLOSURES), st.sampled_from(OWNERS)),
    max_size=40,
)


def kind_of(agreement: Agreement, member: str) -> str:
    if member in agreement.party_ids:
        return "party"
    if member in agreement.notifier_ids:
        return "notifier"
    return "monitor"


def roles_of(agreement: Agreement, member: str) -> list[Role]:
    """The roles a user of ``member`` may hold, administrators aside (they read nothing)."""
    kind = kind_of(agreement, member)
    return [r for r, kinds in ROLE_KINDS.items() if kind in kinds and r is not Role.ADMIN]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_engine(database_url)
    _meta.create_all(made)
    try:
        yield made
    finally:
        _meta.drop_all(made)
        made.dispose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=rows, reader=readers)
def test_the_sql_forms_select_what_the_python_forms_accept(
    engine: Engine, world: list[tuple[str, str, str]], reader: Viewer
) -> None:
    with engine.begin() as connection:
        connection.execute(PROBE.delete())
        if world:
            connection.execute(
                PROBE.insert(),
                [
                    {"n": n, "owner": o, "disclosure": d, "acknowledger": a}
                    for n, (o, d, a) in enumerate(world)
                ],
            )
        c = PROBE.c

        def selected(condition: object) -> set[int]:
            return set(connection.scalars(select(c.n).where(condition)))  # type: ignore[arg-type]

        objects = selected(visibility.objects_where(reader, owner=c.owner, disclosure=c.disclosure))
        tracks = selected(visibility.tracks_where(reader, owner=c.owner, disclosure=c.disclosure))
        acks = selected(
            visibility.acknowledgements_where(reader, owner=c.owner, acknowledger=c.acknowledger)
        )
    assert objects == {
        n
        for n, (o, d, _) in enumerate(world)
        if visibility.sees_object(reader, owner=o, disclosure=d)
    }
    assert tracks == {
        n
        for n, (o, d, _) in enumerate(world)
        if visibility.sees_track(reader, owner=o, disclosure=d)
    }
    assert acks == {
        n
        for n, (o, _, a) in enumerate(world)
        if visibility.sees_acknowledgement(reader, owner=o, acknowledger=a)
    }


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("disclosure", DISCLOSURES)
def test_each_audience_is_the_members_that_may_see(owner: str, disclosure: str) -> None:
    told = visibility.object_audience(AGREEMENT, owner=owner, disclosure=disclosure)
    tracks = visibility.track_audience(AGREEMENT, owner=owner, disclosure=disclosure)
    for member in MEMBERS:
        roles = roles_of(AGREEMENT, member)
        assert (member in told) == any(
            visibility.sees_object(Viewer(member, r), owner=owner, disclosure=disclosure)
            for r in roles
        ), (member, roles)
        assert (member in tracks) == any(
            visibility.sees_track(Viewer(member, r), owner=owner, disclosure=disclosure)
            for r in roles
        ), (member, roles)
        # in clear in the record exactly when a reader who owns nothing may see it
        nobody = Viewer(visibility.NOBODY, Role.MONITOR)
        assert visibility.in_clear(disclosure) == visibility.sees_object(
            nobody, owner=owner, disclosure=disclosure
        )
        for acknowledger in MEMBERS:
            acked = visibility.acknowledgement_audience(owner=owner, acknowledger=acknowledger)
            assert (member in acked) == any(
                visibility.sees_acknowledgement(
                    Viewer(member, r), owner=owner, acknowledger=acknowledger
                )
                for r in roles
            )


@given(parties=st.sets(st.sampled_from(sorted(AGREEMENT.party_ids))), kind=st.sampled_from(
    ["conflict", "area", "exempt"]))  # fmt: skip
def test_an_alert_goes_to_the_members_that_may_read_it(parties: set[str], kind: str) -> None:
    told = set(visibility.alert_audience(AGREEMENT, parties)) if kind != "exempt" else set()
    for member in MEMBERS:
        may = any(
            visibility.sees_alert(Viewer(member, r), kind=kind, parties=parties)
            for r in roles_of(AGREEMENT, member)
        )
        assert (member in told) == may, (member, parties, kind)
        # the reader an event is cut for is one that may read it
        if member in told:
            reader = visibility.alert_reader(AGREEMENT, member)
            assert visibility.sees_alert(reader, kind=kind, parties=parties)


@given(
    owner=st.sampled_from(sorted(AGREEMENT.declarant_ids)),  # monitors declare nothing
    disclosure=st.sampled_from(list(Disclosure)),
    reader=st.sampled_from(
        [
            Viewer(m, r)
            for m in MEMBERS
            for r in roles_of(AGREEMENT, m)
            if r in visibility.OPERATION_READERS
        ]
    ),
)
def test_a_conflict_shows_a_reader_exactly_the_objects_it_may_see(
    owner: str, disclosure: Disclosure, reader: Viewer
) -> None:
    found = Conflict("op-1", ObjectKind.POSITION, "u-1", owner, 812.5, 3000.0, True, disclosure)
    seen = found.visible_to(visibility.conflict_viewer(reader))
    may = visibility.sees_object(reader, owner=owner, disclosure=disclosure.value)
    assert (seen.with_id is not None) == may
    assert (seen.distance_m is not None) == may
    assert seen.party == owner and seen.blocking  # existence, owner and "blocks": always
    # and the live event's audiences give each party and monitor the same cut
    for audience, viewer in visibility.conflict_audiences(AGREEMENT):
        if reader.member in audience:
            assert found.visible_to(viewer) == seen


def test_no_reader_role_is_left_without_a_rule() -> None:
    """Every role that reads a part of the center is named by the policy, and the
    administrator reads none of the parties' content."""
    gates = [
        visibility.DECLARATION_READERS,
        visibility.OPERATION_READERS,
        visibility.AIR_PICTURE_READERS,
        visibility.MESSAGE_READERS,
        visibility.PICTURE_READERS,
        visibility.COMPLIANCE_READERS,
        visibility.REPORT_READERS,
        visibility.DRAFT_READERS,
    ]
    assert all(Role.ADMIN not in gate for gate in gates)
    admin = Viewer("blue", Role.ADMIN)
    assert not visibility.sees_object(admin, owner="blue", disclosure="shared")
    assert not visibility.sees_track(admin, owner="blue", disclosure="shared")
    assert not visibility.sees_alert(admin, kind="conflict", parties=["blue"])
    assert not visibility.sees_report(admin)
    assert not visibility.sees_draft(admin, member="blue")


@given(reader=readers)
def test_reports_are_read_by_every_member_and_told_to_each(reader: Viewer) -> None:
    """Reports are public to the whole agreement: the SQL form is the Python form, and a
    report's live events go to exactly the members some reader of which may read it."""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            got = connection.scalar(select(visibility.reports_where(reader)))
    finally:
        engine.dispose()
    assert bool(got) == visibility.sees_report(reader)
    told = visibility.report_audience(AGREEMENT)
    for member in MEMBERS:
        roles = roles_of(AGREEMENT, member)
        assert (member in told) == any(visibility.sees_report(Viewer(member, r)) for r in roles)


parties = sorted(AGREEMENT.party_ids)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    messages=st.lists(
        st.tuples(st.sampled_from(parties), st.sets(st.sampled_from(parties), min_size=1)),
        max_size=20,
    ),
    reader=readers,
)
def test_messages_sql_form_selects_what_the_python_form_accepts(
    engine: Engine, messages: list[tuple[str, set[str]]], reader: Viewer
) -> None:
    with engine.begin() as connection:
        connection.execute(TO.delete())
        connection.execute(MESSAGES.delete())
        if messages:
            connection.execute(MESSAGES.insert(), [{"n": n, "sender": s} for n, (s, _) in
                                                   enumerate(messages)])  # fmt: skip
            connection.execute(
                TO.insert(),
                [{"message": n, "recipient": r} for n, (_, to) in enumerate(messages) for r in to],
            )
        received = MESSAGES.c.n.in_(select(TO.c.message).where(TO.c.recipient == reader.member))
        condition = visibility.messages_where(reader, sender=MESSAGES.c.sender, received=received)
        got = set(connection.scalars(select(MESSAGES.c.n).where(condition)))
    assert got == {
        n
        for n, (sender, to) in enumerate(messages)
        if visibility.sees_message(reader, sender=sender, recipients=to)
    }
    for sender, to in messages:  # whoever reads the content sees the message
        if visibility.reads_message_content(reader, sender=sender, recipients=to):
            assert visibility.sees_message(reader, sender=sender, recipients=to)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=rows, reader=readers)
def test_drafts_sql_form_selects_what_the_python_form_accepts_and_tells_only_the_owner(
    engine: Engine, world: list[tuple[str, str, str]], reader: Viewer
) -> None:
    """A draft is its member's officers' and approvers' alone: the SQL form is the Python
    form, and a draft's live event goes to exactly the members some reader of which may see
    it (its own)."""
    with engine.begin() as connection:
        connection.execute(PROBE.delete())
        if world:
            connection.execute(
                PROBE.insert(),
                [{"n": n, "owner": o, "disclosure": d, "acknowledger": a}
                 for n, (o, d, a) in enumerate(world)],
            )  # fmt: skip
        condition = visibility.drafts_where(reader, member=PROBE.c.owner)
        got = set(connection.scalars(select(PROBE.c.n).where(condition)))
    assert got == {
        n for n, (o, _, _) in enumerate(world) if visibility.sees_draft(reader, member=o)
    }
    assert all(reader.member == o for n, (o, _, _) in enumerate(world) if n in got), (
        "a draft is seen by its own member alone"
    )
    for owner in sorted(AGREEMENT.party_ids):  # only a party's officers save drafts
        told = visibility.draft_audience(member=owner)
        for member in MEMBERS:
            roles = roles_of(AGREEMENT, member)
            seen = any(visibility.sees_draft(Viewer(member, r), member=owner) for r in roles)
            assert (member in told) == seen, (owner, member)
