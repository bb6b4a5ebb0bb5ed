"""The agreement: the example loads, phases follow their start rules, and every bad file is
refused with an :class:`AgreementError` naming the dotted field path and the 1-based line."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from textwrap import dedent

import pytest

from accord.agreement import (
    CoordinatedRule,
    ImminentThreatRule,
    ObjectKind,
    SynchronizedRule,
    load_agreement,
    load_agreement_text,
    phase_at,
    phase_starts,
)
from accord.errors import AgreementError, InputError
from accord.examples import example_path
from accord.record.keys import SIG_ED25519, SIG_ED25519_COSIGNATURE, PrivateKey

EXAMPLE = example_path("jig.yaml")

AID = "aid-delivered-east-city"


def _doc(text: str) -> str:
    """Inline YAML: the first line after the opening quotes is line 1."""
    return dedent(text)


def _refused(text: str) -> AgreementError:
    with pytest.raises(AgreementError) as info:
        load_agreement_text(text, source="test.yaml")
    return info.value


def _where(error: AgreementError) -> list[tuple[str, int | None]]:
    return [(issue.field, issue.line) for issue in error.issues]


# A valid agreement every bad case below is a small edit of (written out in full each time,
# so the line numbers in each test can be read off the text).
GOOD = _doc(
    """\
    id: demo
    title: Demo agreement
    starts_at: 2026-05-01T00:00:00Z
    parties:
      - {id: blue, name: Blue}
      - {id: red, name: Red}
    notifiers:
      - {id: hnc, name: Humanitarian cell}
    operators:
      - {id: green-af, name: Green Air Force}
    categories:
      coordinated:
        rule: coordinated
        max_executors: 1
      synchronized:
        rule: synchronized
        notice: PT6H
        objection_window: PT2H
    conditions:
      - id: aid
    designated_areas:
      - id: da
        polygon: [[21.0, 25.0], [21.5, 25.0], [21.5, 25.5], [21.0, 25.5]]
        restricted_operators: [green-af]
    phases:
      - id: truce
        categories: [coordinated]
      - id: joint
        starts:
          after: P7D
          confirmed: [aid]
        categories: [coordinated, synchronized]
    """
)


# --- the example and a good file ------------------------------------------------------------


def test_example_agreement_loads(jig):
    assert jig.id == "jig-example"
    assert jig.starts_at == datetime(2026, 9, 12, 16, 0, tzinfo=UTC)
    assert jig.party_ids == {"blue", "red"}
    assert jig.notifier_ids == {"hnc"}
    assert jig.monitor_ids == {"observers"}
    assert jig.operator_ids == {"blue", "red", "green-af"}
    assert jig.declarant_ids == {"blue", "red", "hnc"}
    assert [p.id for p in jig.phases] == ["truce", "joint-center"]
    assert jig.phases[0].categories == ["imminent_threat"]
    assert jig.phases[1].starts.after == timedelta(days=7)
    assert jig.phases[1].starts.confirmed == [AID]


def test_example_categories_and_rules(jig):
    coordinated = jig.category("coordinated")
    assert isinstance(coordinated, CoordinatedRule)
    assert coordinated.max_executors == 1
    synchronized = jig.category("synchronized")
    assert isinstance(synchronized, SynchronizedRule)
    assert synchronized.notice == timedelta(hours=6)
    assert synchronized.objection_window == timedelta(hours=2)
    assert synchronized.hold_while_objected is True
    imminent = jig.category("imminent_threat")
    assert isinstance(imminent, ImminentThreatRule)
    assert imminent.notify_within == timedelta(hours=1)
    with pytest.raises(KeyError):
        jig.category("integrated")


def test_example_deconfliction_and_airspace(jig):
    assert jig.buffer_m("protected_site") == 1500.0
    assert jig.buffer_m(ObjectKind.POSITION) == 3000.0
    assert jig.blocks("position")
    assert not jig.blocks("operation")
    assert jig.deconfliction.site_reconfirm_every == timedelta(days=7)
    assert jig.airspace.horizontal_nm == 5
    assert jig.airspace.lookahead == timedelta(minutes=5)
    (area,) = jig.designated_areas
    assert area.id == "da-north"
    assert area.restricted_operators == ["green-af"]
    assert set(area.exempt_missions) == {"medevac", "personnel_recovery", "humanitarian"}


def test_good_inline_agreement_loads():
    agreement = load_agreement_text(GOOD)
    assert agreement.id == "demo"
    assert list(agreement.categories) == ["coordinated", "synchronized"]


def test_agreement_is_frozen(jig):
    with pytest.raises(ValueError, match="frozen"):
        jig.id = "other"


# --- phases ---------------------------------------------------------------------------------


def test_phase_before_start_is_none(jig):
    assert phase_at(jig, jig.starts_at - timedelta(seconds=1), {}) is None
    assert phase_at(jig, jig.starts_at - timedelta(days=30), {AID: jig.starts_at}) is None


def test_phase_at_start_is_truce(jig):
    status = phase_at(jig, jig.starts_at, {})
    assert status is not None
    assert status.phase.id == "truce"
    assert status.started_at == jig.starts_at


@pytest.mark.parametrize("offset", [timedelta(hours=1), timedelta(days=3), timedelta(days=6)])
def test_phase_during_truce(jig, offset):
    status = phase_at(jig, jig.starts_at + offset, {})
    assert status is not None
    assert status.phase.id == "truce"
    assert status.started_at == jig.starts_at


def test_day_eight_without_condition_is_still_truce(jig):
    for at in (jig.starts_at + timedelta(days=7), jig.starts_at + timedelta(days=30)):
        status = phase_at(jig, at, {})
        assert status is not None
        assert status.phase.id == "truce"


def test_unrelated_confirmation_does_not_start_joint_center(jig):
    status = phase_at(jig, jig.starts_at + timedelta(days=8), {"something-else": jig.starts_at})
    assert status is not None
    assert status.phase.id == "truce"


@pytest.mark.parametrize(
    "confirmed_after",
    [timedelta(days=-2), timedelta(0), timedelta(days=2), timedelta(days=6, hours=23)],
)
def test_day_eight_with_condition_confirmed_earlier(jig, confirmed_after):
    confirmations = {AID: jig.starts_at + confirmed_after}
    day_eight = jig.starts_at + timedelta(days=7)
    just_before = phase_at(jig, day_eight - timedelta(seconds=1), confirmations)
    assert just_before is not None
    assert just_before.phase.id == "truce"
    status = phase_at(jig, day_eight + timedelta(hours=5), confirmations)
    assert status is not None
    assert status.phase.id == "joint-center"
    assert status.started_at == day_eight
    at_start = phase_at(jig, day_eight, confirmations)
    assert at_start is not None
    assert at_start.phase.id == "joint-center"


def test_condition_confirmed_on_day_nine_starts_joint_center_then(jig):
    confirmed = jig.starts_at + timedelta(days=8, hours=3)
    confirmations = {AID: confirmed}
    before = phase_at(jig, confirmed - timedelta(minutes=1), confirmations)
    assert before is not None
    assert before.phase.id == "truce"
    at = phase_at(jig, confirmed, confirmations)
    assert at is not None
    assert at.phase.id == "joint-center"
    assert at.started_at == confirmed
    later = phase_at(jig, confirmed + timedelta(days=2), confirmations)
    assert later is not None
    assert later.phase.id == "joint-center"
    assert later.started_at == confirmed


def test_confirmation_dated_after_at_does_not_count(jig):
    at = jig.starts_at + timedelta(days=7, hours=1)
    confirmations = {AID: at + timedelta(hours=1)}
    status = phase_at(jig, at, confirmations)
    assert status is not None
    assert status.phase.id == "truce"
    assert status.started_at == jig.starts_at


def test_confirmations_in_other_offsets_compare_as_instants(jig):
    plus_two = timezone(timedelta(hours=2))
    at = datetime(2026, 9, 21, 22, 0, tzinfo=plus_two)  # 20:00Z
    confirmed = datetime(2026, 9, 21, 21, 0, tzinfo=plus_two)  # 19:00Z
    assert phase_at(jig, confirmed - timedelta(seconds=1), {AID: confirmed}).phase.id == "truce"
    status = phase_at(jig, at, {AID: confirmed})
    assert status is not None
    assert status.phase.id == "joint-center"
    assert status.started_at == datetime(2026, 9, 21, 19, 0, tzinfo=UTC)


def test_phase_starts(jig):
    start = jig.starts_at
    assert phase_starts(jig, {}) == [start, None]
    assert phase_starts(jig, {AID: start + timedelta(days=2)}) == [start, start + timedelta(days=7)]
    nine = start + timedelta(days=8, hours=3)
    assert phase_starts(jig, {AID: nine}) == [start, nine]


def test_phase_after_an_unstarted_phase_has_not_started():
    agreement = load_agreement_text(
        _doc(
            """\
            id: three
            title: Three phases
            starts_at: 2026-05-01T00:00:00+02:00
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories: {coordinated: {rule: coordinated}}
            conditions: [{id: aid}, {id: talks}]
            phases:
              - {id: one, categories: [coordinated]}
              - {id: two, starts: {after: P1D, confirmed: [aid]}}
              - {id: three, starts: {after: P2D, confirmed: [talks]}}
            """
        )
    )
    start = datetime(2026, 4, 30, 22, 0, tzinfo=UTC)
    assert agreement.starts_at == start
    talks_only = {"talks": start}
    assert phase_starts(agreement, talks_only) == [start, None, None]
    status = phase_at(agreement, start + timedelta(days=10), talks_only)
    assert status is not None
    assert status.phase.id == "one"
    both = {"talks": start, "aid": start + timedelta(days=5)}
    assert phase_starts(agreement, both) == [
        start,
        start + timedelta(days=5),
        start + timedelta(days=5),
    ]
    status = phase_at(agreement, start + timedelta(days=5), both)
    assert status is not None
    assert status.phase.id == "three"


# --- bad agreement files --------------------------------------------------------------------


def test_missing_required_field():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            categories: {coordinated: {rule: coordinated}}
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("parties", 1)]
    assert "required" in error.issues[0].message.lower()


def test_only_one_party():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}]
            categories: {coordinated: {rule: coordinated}}
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("parties", 4)]
    assert "at least 2" in error.issues[0].message


def test_unknown_rule_kind():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories:
              coordinated:
                rule: bombard
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    ((field, line),) = _where(error)
    assert field.startswith("categories.coordinated")
    assert line == 7
    assert "bombard" in error.issues[0].message


@pytest.mark.parametrize(
    ("rule_line", "expected_line"),
    [("    rule: bombard\n", 8), ("", 7)],
    ids=["unknown-rule-not-first", "missing-rule"],
)
def test_rule_kind_error_names_the_rule_field(rule_line, expected_line):
    text = (
        "id: demo\n"
        "title: Demo\n"
        "starts_at: 2026-05-01T00:00:00Z\n"
        "parties: [{id: blue, name: Blue}, {id: red, name: Red}]\n"
        "categories:\n"
        "  coordinated:\n"
        "    max_executors: 2\n"  # line 7
        f"{rule_line}"  # line 8 when present
        "phases: [{id: joint, categories: [coordinated]}]\n"
    )
    error = _refused(text)
    assert _where(error) == [("categories.coordinated.rule", expected_line)]


def test_negative_max_executors():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories:
              coordinated:
                rule: coordinated
                max_executors: -1
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("categories.coordinated.max_executors", 8)]


@pytest.mark.parametrize("value", ["6 hours", "6", "P1M", "P1Y", "PT"])
def test_duration_without_iso_form(value):
    error = _refused(
        _doc(
            f"""\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{{id: blue, name: Blue}}, {{id: red, name: Red}}]
            categories:
              synchronized:
                rule: synchronized
                notice: {value}
                objection_window: PT2H
            phases: [{{id: joint, categories: [synchronized]}}]
            """
        )
    )
    assert _where(error) == [("categories.synchronized.notice", 8)]
    assert "ISO 8601" in error.issues[0].message


def test_duration_too_long_is_an_agreement_error():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories: {coordinated: {rule: coordinated}}
            airspace:
              lookahead: P9999999999D
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("airspace.lookahead", 7)]


@pytest.mark.parametrize("value", ["2026-05-01T00:00:00", "'2026-05-01T00:00:00'", "2026-05-01"])
def test_starts_at_without_offset(value):
    error = _refused(
        _doc(
            f"""\
            id: demo
            title: Demo
            # the truce begins
            starts_at: {value}
            parties: [{{id: blue, name: Blue}}, {{id: red, name: Red}}]
            categories: {{coordinated: {{rule: coordinated}}}}
            phases: [{{id: joint, categories: [coordinated]}}]
            """
        )
    )
    assert _where(error) == [("starts_at", 4)]
    assert re.search(r"timezone|offset", error.issues[0].message)


def test_starts_at_number_is_refused():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 1777593600
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories: {coordinated: {rule: coordinated}}
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("starts_at", 3)]


def test_unknown_category_in_phase():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories:
              coordinated: {rule: coordinated}
            phases:
              - id: truce
                categories: [coordinated]
              - id: joint
                categories:
                  - coordinated
                  - bombing
            """
        )
    )
    assert _where(error) == [("phases[1].categories[1]", 13)]
    assert "bombing" in error.issues[0].message


def test_unknown_condition_in_phase():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories:
              coordinated: {rule: coordinated}
            conditions:
              - id: aid
            phases:
              - id: truce
              - id: joint
                starts:
                  after: P7D
                  confirmed: [aid, rain]
                categories: [coordinated]
            """
        )
    )
    assert _where(error) == [("phases[1].starts.confirmed[1]", 14)]
    assert "rain" in error.issues[0].message


def test_designated_area_unknown_restricted_operator():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            operators: [{id: green-af, name: Green}]
            categories: {coordinated: {rule: coordinated}}
            designated_areas:
              - id: da
                polygon: [[21.0, 25.0], [21.5, 25.0], [21.5, 25.5], [21.0, 25.5]]
                restricted_operators:
                  - green-af
                  - purple-af
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("designated_areas[0].restricted_operators[1]", 12)]
    assert "purple-af" in error.issues[0].message


def test_designated_area_bow_tie_polygon():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            operators: [{id: green-af, name: Green}]
            categories: {coordinated: {rule: coordinated}}
            designated_areas:
              - id: da-1
                polygon: [[21.0, 25.0], [21.5, 25.0], [21.5, 25.5], [21.0, 25.5]]
                restricted_operators: [green-af]
              - id: da-2
                restricted_operators: [green-af]
                polygon: [[21.0, 25.0], [21.5, 25.5], [21.5, 25.0], [21.0, 25.5]]
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("designated_areas[1].polygon", 13)]
    assert "Self-intersection" in error.issues[0].message


def test_designated_area_latitude_out_of_range():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            operators: [{id: green-af, name: Green}]
            categories: {coordinated: {rule: coordinated}}
            designated_areas:
              - id: da
                restricted_operators: [green-af]
                polygon:
                  - [21.0, 25.0]
                  - [21.5, 25.0]
                  - [21.5, 95.5]
                  - [21.0, 25.5]
            phases: [{id: joint, categories: [coordinated]}]
            """
        )
    )
    assert _where(error) == [("designated_areas[0].polygon[2]", 13)]
    assert "latitude 95.5" in error.issues[0].message


def test_designated_area_longitude_out_of_range():
    error = _refused(GOOD.replace("[21.5, 25.5], [21.0, 25.5]]", "[181.5, 25.5], [21.0, 25.5]]"))
    assert _where(error) == [("designated_areas[0].polygon[2]", 23)]
    assert "longitude 181.5" in error.issues[0].message


@pytest.mark.parametrize(
    ("line_5", "line_8", "field"),
    [
        ("{id: blue, name: Blue}", "{id: red, name: Humanitarian cell}", "notifiers[0].id"),
        ("{id: red, name: Blue}", "{id: hnc, name: Humanitarian cell}", "parties[1].id"),
    ],
)
def test_duplicate_member_id(line_5, line_8, field):
    text = GOOD.replace("{id: blue, name: Blue}", line_5).replace(
        "{id: hnc, name: Humanitarian cell}", line_8
    )
    error = _refused(text)
    expected_line = 8 if field.startswith("notifiers") else 6
    assert _where(error) == [(field, expected_line)]
    assert "'red'" in error.issues[0].message
    assert "already used in parties" in error.issues[0].message


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("{id: red, name: Red}", "{id: center, name: Red}", "parties[1].id", 6),
        ("{id: hnc, name: Humanitarian cell}", "{id: Center, name: H}", "notifiers[0].id", 8),
        ("operators:\n", "operators:\n  - {id: CENTER, name: G}\n", "operators[0].id", 10),
        ("operators:\n", "monitors:\n  - {id: center, name: M}\noperators:\n",
         "monitors[0].id", 10),
    ],
)  # fmt: skip
def test_the_center_id_is_reserved(old: str, new: str, field: str, line: int) -> None:
    """``center`` names the center itself (a report may accuse it): no member takes it, in
    any case, and the issue names the field, as a duplicate id's does."""
    error = _refused(GOOD.replace(old, new, 1))
    assert _where(error) == [(field, line)]
    assert "is reserved: it names the center itself" in error.issues[0].message


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("{id: red, name: Red}", "{id: unknown, name: Red}", "parties[1].id", 6),
        ("operators:\n", "operators:\n  - {id: Unknown, name: G}\n", "operators[0].id", 10),
    ],
)  # fmt: skip
def test_the_unknown_operator_is_reserved(old: str, new: str, field: str, line: int) -> None:
    """``unknown`` is the operator of an aircraft no declaration identifies: no member takes
    it, in any case."""
    error = _refused(GOOD.replace(old, new, 1))
    assert _where(error) == [(field, line)]
    assert "is reserved: it names aircraft no declaration identifies" in error.issues[0].message


def test_duplicate_yaml_key():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
            starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            categories:
              coordinated:
                rule: coordinated
                max_executors: 1
                max_executors: 2
            phases: [{id: joint, categories: [coordinated]}]
            title: Another
            """
        )
    )
    assert sorted(_where(error)) == [
        ("categories.coordinated.max_executors", 9),
        ("title", 11),
    ]
    assert all("twice" in issue.message for issue in error.issues)


def test_invalid_yaml_syntax():
    error = _refused(
        _doc(
            """\
            id: demo
            title: Demo
              starts_at: 2026-05-01T00:00:00Z
            parties: [{id: blue, name: Blue}, {id: red, name: Red}]
            """
        )
    )
    assert _where(error) == [("", 3)]
    assert "not valid YAML" in error.issues[0].message


def test_invalid_yaml_unclosed_flow():
    error = _refused("id: demo\ntitle: [Demo\nstarts_at: 2026-05-01T00:00:00Z\n")
    assert len(error.issues) == 1
    assert error.issues[0].line in (2, 3)
    assert "not valid YAML" in error.issues[0].message


def test_yaml_python_tags_are_refused():
    error = _refused("id: demo\ntitle: !!python/object/apply:os.getcwd []\n")
    assert _where(error) == [("", 2)]


def test_extra_unknown_field():
    error = _refused(
        GOOD.replace("    max_executors: 1\n", "    max_executors: 1\n    colour: x\n")
    )
    assert _where(error) == [("categories.coordinated.colour", 15)]
    assert "Extra inputs" in error.issues[0].message


def test_extra_unknown_top_level_field():
    error = _refused(GOOD.replace("title: Demo agreement\n", "title: Demo agreement\nvers: 2\n"))
    assert _where(error) == [("vers", 3)]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n", "", "~\n"])
def test_non_mapping_document(text):
    error = _refused(text)
    assert _where(error) == [("", 1)]
    assert "mapping" in error.issues[0].message


def test_every_semantic_problem_is_reported_at_once():
    text = GOOD.replace("confirmed: [aid]", "confirmed: [rain]").replace(
        "categories: [coordinated]\n", "categories: [bombing]\n"
    )
    error = _refused(text)
    assert sorted(_where(error)) == [
        ("phases[0].categories[0]", 27),
        ("phases[1].starts.confirmed[0]", 31),
    ]


def test_every_schema_problem_is_reported_at_once():
    text = GOOD.replace("max_executors: 1", "max_executors: 0").replace(
        "notice: PT6H", "notice: 6 hours"
    )
    error = _refused(text)
    assert sorted(_where(error)) == [
        ("categories.coordinated.max_executors", 14),
        ("categories.synchronized.notice", 17),
    ]


def test_error_text_names_source_line_and_field():
    error = _refused(GOOD.replace("max_executors: 1", "max_executors: -3"))
    assert isinstance(error, InputError)
    assert error.source == "test.yaml"
    text = str(error)
    assert text.startswith("test.yaml: 1 problem\n")
    assert "line 14" in text
    assert "'categories.coordinated.max_executors'" in text


def test_line_numbers_in_the_example_file(tmp_path):
    original = example_path("jig.yaml").read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.strip() == "notify_within: PT1H"]
    lines[index] = lines[index].replace("PT1H", "one hour")
    path = tmp_path / "jig.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(AgreementError) as info:
        load_agreement(path)
    assert info.value.source == str(path)
    assert _where(info.value) == [("categories.imminent_threat.notify_within", index + 1)]


# --- files ----------------------------------------------------------------------------------


def test_load_agreement_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(AgreementError) as info:
        load_agreement(path)
    assert info.value.source == str(path)
    assert "cannot read file" in str(info.value)


def test_load_agreement_directory(tmp_path):
    with pytest.raises(AgreementError, match="cannot read file"):
        load_agreement(tmp_path)


def test_load_agreement_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("id: d\u00e9mo\ntitle: \u00e9t\u00e9\n".encode("latin-1"))
    with pytest.raises(AgreementError) as info:
        load_agreement(path)
    assert "not UTF-8" in str(info.value)
    assert not isinstance(info.value, UnicodeDecodeError)


def test_load_agreement_reads_a_good_file(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_agreement(path).id == "demo"


def test_deeply_nested_yaml_is_an_agreement_error():
    error = _refused("id: " + "[" * 800 + "]" * 800 + "\n")
    assert len(error.issues) == 1


def test_absurd_duration_is_refused_before_anything_runs():
    text = EXAMPLE.read_text(encoding="utf-8").replace("after: P7D", "after: P999999999D")
    with pytest.raises(AgreementError) as info:
        load_agreement_text(text)
    assert "phases[1].starts.after" in str(info.value)
    assert "100 years" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("max_executors: 1 ", "max_executors: true ", "categories.coordinated.max_executors"),
        ("hold_while_objected: true", "hold_while_objected: 1", "hold_while_objected"),
    ],
)
def test_numbers_and_booleans_are_not_guessed(old, new, field):
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(AgreementError) as info:
        load_agreement_text(text.replace(old, new))
    assert field in str(info.value)


# --- each party's witness -------------------------------------------------------------------

_WITNESS = PrivateKey.from_seed("witness.blue.example/w1", bytes(range(32))).public


def _with_witness(**fields: str) -> str:
    """GOOD with blue naming a witness (line 5), ``fields`` replacing the good ones."""
    witness = {
        "name": _WITNESS.name,
        "vkey": _WITNESS.vkey(SIG_ED25519_COSIGNATURE),
        "url": "http://127.0.0.1:7380/",
        **fields,
    }
    inline = ", ".join(f"{k}: {json.dumps(v)}" for k, v in witness.items())
    return GOOD.replace(
        "- {id: blue, name: Blue}", f"- {{id: blue, name: Blue, witness: {{{inline}}}}}"
    )


def test_a_party_names_its_witness():
    agreement = load_agreement_text(_with_witness())
    ref = agreement.witnesses["blue"]
    assert (ref.name, ref.url, ref.key) == (_WITNESS.name, "http://127.0.0.1:7380", _WITNESS)
    assert set(agreement.witnesses) == {"blue"}


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"vkey": "nonsense"}, "parties[0].witness.vkey", "not a signed-note verifier key"),
        ({"vkey": _WITNESS.vkey(SIG_ED25519)}, "parties[0].witness.vkey", "type 0x04"),
        ({"name": "other"}, "parties[0].witness.vkey", "named 'witness.blue.example/w1'"),
        ({"url": "ftp://127.0.0.1/"}, "parties[0].witness.url", "http:// or https://"),
        ({"url": "http://"}, "parties[0].witness.url", "with a host"),
        ({"url": "http://h:99999"}, "parties[0].witness.url", "not a URL"),
        ({"url": "https://h/w?x=1"}, "parties[0].witness.url", "without query"),
        ({"url": "https://u:p@h/"}, "parties[0].witness.url", "user name"),
    ],
)
def test_a_bad_witness_is_refused_naming_its_field(fields, where, says):
    error = _refused(_with_witness(**fields))
    assert _where(error) == [(where, 5)]
    assert says in error.issues[0].message


def test_only_a_party_names_a_witness_and_no_two_share_one():
    line = _with_witness().splitlines()[4].strip()[2:]  # blue's flow mapping
    text = _with_witness().replace("- {id: red, name: Red}", "- " + line.replace("blue", "red", 1))
    error = _refused(text)
    assert _where(error) == [("parties[1].witness.name", 6)]
    assert "already blue's witness" in error.issues[0].message
    notifier = GOOD.replace(
        "- {id: hnc, name: Humanitarian cell}", "- " + line.replace("id: blue", "id: hnc", 1)
    )
    assert _where(_refused(notifier)) == [("notifiers[0].witness", 8)]


def test_a_member_without_a_witness_is_written_as_before():
    """The agreement document (entry 0; its roots sign its digest) of an agreement naming no
    witness has no ``witness`` key: records begun before witnesses existed still open."""
    plain = load_agreement_text(GOOD).model_dump(mode="json")
    assert all("witness" not in party for party in plain["parties"])
    named = load_agreement_text(_with_witness()).model_dump(mode="json")
    assert named["parties"][0]["witness"]["name"] == _WITNESS.name
    assert "witness" not in named["parties"][1]
