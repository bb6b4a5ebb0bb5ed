"""Random histories for the picture's property tests: what a desk's users do, one action at
a time — shared and hidden declarations of both parties, their amendments and withdrawals,
operations proposed, approved and cancelled, direct-line messages sent and acknowledged."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from support.desk import AID, HIDDEN, Desk, named, operation

SITE: dict[str, Any] = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [21.905, 24.912]},
    "properties": {"kind": "protected_site", "name": "Depot A", "category": "depot"},
}
"""A shared protected site (blue's)."""

RED_HIDDEN: dict[str, Any] = copy.deepcopy(HIDDEN)
RED_HIDDEN["geometry"]["coordinates"] = [21.61, 25.31]
RED_HIDDEN["properties"].update(name="HIDDEN-COMPANY-2", party="red")

DECLARING = {
    "declare": ("blue-officer", SITE),
    "declare_hidden": ("blue-officer", HIDDEN),
    "red_hidden": ("red-officer", RED_HIDDEN),
}
"""Each declaring action: who declares, what."""

NAMES = (*DECLARING, "amend", "withdraw", "propose", "approve", "cancel", "send", "ack")


def actions(*, max_size: int = 8) -> st.SearchStrategy[list[str]]:
    """Lists of actions (:func:`act`), at least one."""
    return st.lists(st.sampled_from(NAMES), min_size=1, max_size=max_size)


def act(desk: Desk, action: str, made: dict[str, list[dict[str, Any]]]) -> None:
    """Do ``action`` as its user would; ``made`` keeps what was made, for later actions (an
    amendment or a withdrawal of the oldest declaration, by its declarer; an approval or a
    cancellation of the oldest operation; an acknowledgement of the oldest message)."""
    if action in DECLARING:
        user, feature = DECLARING[action]
        made["declarations"].append(
            {**desk.ok(desk.post("/v1/declarations", user, json=feature)), "user": user}
        )
    elif action in ("amend", "withdraw") and made["declarations"]:
        target = made["declarations"].pop(0)
        path, user = f"/v1/declarations/{target['id']}", target["user"]
        if action == "amend":
            changed = named(target["feature"], "amended")
            for key in ("id", "declared_by"):
                changed["properties"].pop(key)
            amended = desk.ok(desk.put(path, user, json=changed), 200)
            made["declarations"].append({**amended, "user": user})
        else:
            desk.ok(desk.post(f"{path}/withdraw", user, json={"reason": "x"}), 200)
    elif action == "propose":
        lon = 21.3 + 0.01 * len(made["operations"])
        made["operations"].append(
            desk.ok(desk.post("/v1/operations", "red-officer", json=operation(lon, 25.9, "red")))
        )
    elif action == "approve" and made["operations"]:
        target = made["operations"].pop(0)
        desk.post(f"/v1/operations/{target['id']}/approve", "blue-approver", json={})
    elif action == "cancel" and made["operations"]:
        target = made["operations"].pop(0)
        path = f"/v1/operations/{target['id']}/cancel"
        desk.ok(desk.post(path, "red-officer", json={"reason": "x"}), 200)
    elif action == "send":
        body = {"to": ["blue"], "subject": "s", "text": "t"}
        made["messages"].append(desk.ok(desk.post("/v1/messages", "red-officer", json=body)))
    elif action == "ack" and made["messages"]:
        target = made["messages"].pop(0)
        path = f"/v1/messages/{target['id']}/acknowledge"
        desk.ok(desk.post(path, "blue-officer", json={"content_hash": target["content_hash"]}))


def history(desk: Desk, done: list[str]) -> Iterator[int]:
    """With the joint phase confirmed, do the actions ``done`` one a minute, yielding each
    one's number once it is done."""
    desk.ok(desk.post("/v1/phases/confirm", "hnc-notifier", json=AID))
    made: dict[str, list[dict[str, Any]]] = {"declarations": [], "operations": [], "messages": []}
    for i, action in enumerate(done):
        desk.clock.set(1 + i)
        act(desk, action, made)
        yield i
