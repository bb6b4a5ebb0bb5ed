""":func:`accord.deconfliction.conflicts.as_seen_by` gives each viewer exactly what
:meth:`Conflict.visible_to` then :meth:`Conflict.as_dict` give it, one conflict at a time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from accord.agreement import ObjectKind
from accord.deconfliction import Conflict
from accord.deconfliction.conflicts import as_seen_by
from accord.world import Disclosure

PARTIES = ["blue", "red", "hnc"]

conflict = st.builds(
    Conflict,
    operation=st.just("op-1"),
    kind=st.sampled_from(list(ObjectKind)),
    with_id=st.text(min_size=1, max_size=8),
    party=st.sampled_from(PARTIES),
    distance_m=st.floats(0, 1e5),
    threshold_m=st.floats(0, 1e5),
    blocking=st.booleans(),
    disclosure=st.sampled_from(list(Disclosure)),
    stale=st.booleans(),
    margin=st.booleans(),
)


@given(
    conflicts=st.lists(conflict, max_size=12),
    viewers=st.lists(st.sampled_from([*PARTIES, "observers", None]), max_size=6),
)
def test_each_viewer_sees_what_visible_to_gives_it(
    conflicts: list[Conflict], viewers: list[str | None]
) -> None:
    seen = as_seen_by(conflicts, viewers)
    assert seen == [[c.visible_to(v).as_dict() for c in conflicts] for v in viewers]
    for viewer, forms in zip(viewers, seen, strict=True):
        for c, form in zip(conflicts, forms, strict=True):
            if c.hidden_from(viewer):
                assert form["with"] is None and form["distance_m"] is None
