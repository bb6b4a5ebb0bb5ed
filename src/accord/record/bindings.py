"""Which acts may cause which entries: an entry's event checked against the request its act
signed.

A member's entry (version 2, :mod:`accord.record.entries`) holds the act that caused it and
the center's reading of it, the event. The act says what was asked — ``"POST
/v1/operations/op-17/approve"`` — and each kind of entry names the requests that may cause
it, as templates whose ``{field}`` segments must equal the event's field of that name
(``"POST /v1/operations/{operation}/approve"``: an ``operation.approved`` entry of
``op-17``) and whose ``{*}`` segments match any one segment. A center that read an approval
of one operation as a veto, or as another operation's, is caught: the event does not fit
the act.

>>> fits("POST /v1/operations/op-17/approve", "POST /v1/operations/{operation}/approve",
...      {"kind": "operation.approved", "operation": "op-17"})
True
>>> fits("POST /v1/operations/op-17/approve", "POST /v1/operations/{operation}/approve",
...      {"kind": "operation.approved", "operation": "op-18"})
False
>>> fits("POST /v1/operations/op-17/veto", "POST /v1/operations/{operation}/approve",
...      {"kind": "operation.approved", "operation": "op-17"})
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

__all__ = ["fits", "fits_any"]


def fits(action: str, template: str, event: Mapping[str, Any]) -> bool:
    """Whether the act's ``action`` (``"<METHOD> <path>[?<query>]"``) is a request of
    ``template`` whose ``{field}`` segments are the event's fields."""
    method, _, path = action.partition(" ")
    want_method, _, want_path = template.partition(" ")
    if method != want_method:
        return False
    path = path.partition("?")[0]
    have, want = path.split("/"), want_path.split("/")
    if len(have) != len(want):
        return False
    for segment, pattern in zip(have, want, strict=True):
        if pattern == "{*}":
            continue
        if pattern.startswith("{") and pattern.endswith("}"):
            value = event.get(pattern[1:-1])
            if not isinstance(value, str) or unquote(segment) != value:
                return False
        elif segment != pattern:
            return False
    return True


def fits_any(action: str, templates: Iterable[str], event: Mapping[str, Any]) -> bool:
    """Whether the act's ``action`` fits one of ``templates`` (see :func:`fits`)."""
    return any(fits(action, template, event) for template in templates)
