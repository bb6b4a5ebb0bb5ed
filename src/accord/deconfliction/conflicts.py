"""What the engine reports: a conflict between an operation and a declared object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from accord.agreement import ObjectKind
from accord.world import Disclosure

__all__ = ["Conflict", "as_seen_by"]


class Conflict(NamedTuple):
    """One conflict of an operation with a declared object (an immutable value).

    ``distance_m`` is the minimum geodesic distance on WGS84 between the operation's area and
    the object's (0 where they touch or overlap); ``threshold_m`` the distance under which the
    agreement calls it a conflict (the kind's buffer or the site's standoff, widened by both
    sides' declared uncertainty). ``with_id``, ``distance_m`` and ``threshold_m`` are None
    once redacted for a viewer who may not learn which object it is: of another party's
    hidden object a viewer learns its kind, its owner and that it blocks, no number (a
    distance, even rounded, lets three proposals place it). ``margin`` marks a conflict with
    a hidden object's shadow only (:mod:`accord.deconfliction.hidden`): no true conflict,
    answered as one so that the proposer cannot tell; its distance is None.

    >>> c = Conflict("op-1", ObjectKind.POSITION, "pos-9", "red", 120.0, 3000.0, True,
    ...              Disclosure.CENTER)
    >>> c.visible_to("blue").with_id, c.visible_to("blue").distance_m
    (None, None)
    >>> c.visible_to("red").with_id, c.visible_to("red").distance_m
    ('pos-9', 120.0)
    """

    operation: str
    kind: ObjectKind
    with_id: str | None
    party: str
    distance_m: float | None
    threshold_m: float | None
    blocking: bool
    disclosure: Disclosure = Disclosure.SHARED
    stale: bool = False
    margin: bool = False

    def hidden_from(self, viewer: str | None) -> bool:
        """Whether ``viewer`` sees this conflict redacted (``None``: the center, which sees
        all): a ``center`` object of another party."""
        return not (viewer is None or self.disclosure is Disclosure.SHARED or self.party == viewer)

    def visible_to(self, viewer: str | None) -> Conflict:
        """This conflict as ``viewer`` may see it (``None``: the center, which sees all).

        A ``center`` object of another party shows only its kind, owning party and whether it
        blocks — never which object it is, nor any distance (the brief's disclosure rule).
        The redacted form is the same whoever it is redacted for.
        """
        if not self.hidden_from(viewer):
            return self
        return self._replace(
            with_id=None, distance_m=None, threshold_m=None, stale=False, margin=False
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``kind``, ``with``, ``party``, ``distance_m`` (null when hidden or
        a margin conflict), ``blocking`` and more."""
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "with": self.with_id,
            "party": self.party,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 2),
            "blocking": self.blocking,
        }
        if self.with_id is not None:
            out["disclosure"] = self.disclosure.value
        if self.threshold_m is not None:
            out["threshold_m"] = round(self.threshold_m, 2)
        if self.stale:
            out["stale"] = True
        if self.margin:
            out["margin"] = True
        return out


def as_seen_by(
    conflicts: Sequence[Conflict], viewers: Sequence[str | None]
) -> list[list[dict[str, Any]]]:
    """Each viewer's JSON form of ``conflicts`` (:meth:`Conflict.visible_to`, then
    :meth:`Conflict.as_dict`), one list per viewer: each conflict's open and redacted forms
    made once and shared between the viewers who see it so, not once per viewer.

    >>> shared = Conflict("op-1", ObjectKind.PROTECTED_SITE, "site-1", "hnc", 0.0, 500.0, True)
    >>> hidden = Conflict("op-1", ObjectKind.POSITION, "pos-9", "red", 120.0, 3000.0, True,
    ...                   Disclosure.CENTER)
    >>> blue, red = as_seen_by([shared, hidden], ["blue", "red"])
    >>> blue[0] is red[0], blue[1]["with"], red[1]["with"]
    (True, None, 'pos-9')
    """
    open_forms = [c.as_dict() for c in conflicts]
    redacted: dict[int, dict[str, Any]] = {}
    out = []
    for viewer in viewers:
        seen = []
        for i, c in enumerate(conflicts):
            if not c.hidden_from(viewer):
                seen.append(open_forms[i])
                continue
            form = redacted.get(i)
            if form is None:
                form = redacted[i] = c.visible_to(viewer).as_dict()
            seen.append(form)
        out.append(seen)
    return out
