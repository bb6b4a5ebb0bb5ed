"""The picture at any time: what a caller could see at an instant, rebuilt from the record
alone, so that a dispute about "what did we know then" is settled by replay, not memory.

:func:`picture` reads the record's prefix up to the instant, checked entry by entry
(:mod:`accord.center.picture.verified`: a record that does not verify is
:class:`~accord.errors.RecordDamaged` naming the entry, never a picture), folds it
(:mod:`accord.center.picture.replay`) and answers the caller's view of it
(:mod:`accord.center.picture.views`). Only the caller's member's hidden declarations are
opened; their entries whose opening does not check are listed in ``unverified``, and an older
log's hidden declaration whose opening does not check is listed with ``feature`` null and
``verified`` false, never as verified.

**What each caller sees** (the same lines as the live resources):

* a party's officers and approvers: every ``shared`` declaration in force, their own
  member's ``center`` ones opened from the stored openings (other members' ``center``
  declarations do not appear at all, not even counted), every operation with its status at
  the instant and its conflicts as the record holds them (already cut for every reader),
  and the direct-line messages their party sent or received that were still open (not
  acknowledged by every recipient) with their content opened and checked;
* monitors: the ``shared`` declarations, every operation, and every open message's
  metadata (sender, recipients, times, acknowledgement and escalation state — what the
  record says), never content;
* notifiers: their own member's declarations and their acknowledgements only;
* administrators: nothing (403).

**Proof.** The answer names ``entries`` (the size of the prefix), the Merkle ``root`` of
that prefix, and a tree head signed by the center: the one stored at exactly that size when
there is one, else the latest (signed now if the log has grown). A party checks the root
against the head with a consistency proof (``GET /v1/record/proofs/consistency``) and can
replay the same prefix itself.
"""

from __future__ import annotations

from datetime import datetime

from accord.agreement import phase_at
from accord.center import visibility
from accord.center.identity import Caller
from accord.center.phases.views import PhaseOut
from accord.center.picture.replay import Replay
from accord.center.picture.verified import hidden_openings, opened_cache, verified_record
from accord.center.picture.views import (
    AnomalyAt,
    PictureOut,
    declarations_at,
    messages_at,
    operations_at,
    proof,
)
from accord.center.runtime import Center
from accord.errors import NotAuthorized

__all__ = ["picture"]


def picture(center: Center, caller: Caller, at: datetime) -> PictureOut:
    """What ``caller`` could see at ``at``, from the record's prefix up to ``at``.

    Raises :class:`~accord.errors.NotAuthorized` for an administrator and
    :class:`~accord.errors.RecordDamaged` when the record does not verify.
    """
    view = visibility.picture_view(caller)
    if view is None:
        raise NotAuthorized("an administrator registers people; it has no picture")
    with center.reading() as session:
        records, size = verified_record(center, center.log(session), until=at)
        # Only the caller's member's hidden declarations are shown: only theirs are opened.
        owned = hidden_openings(
            session, records, owners={caller.member}, cache=opened_cache(center)
        )
        replay = Replay(center.agreement, center.origin, owned).fold(records)
        declarations = list(declarations_at(session, replay, caller))
        messages = list(messages_at(session, replay, caller))
    operations = list(operations_at(replay, at)) if visibility.reads_operations(caller) else []
    return PictureOut(
        at=at,
        member=caller.member,
        view=view,
        proof=proof(center, size),
        phase=PhaseOut.of(phase_at(center.agreement, at, replay.confirmations)),
        confirmations=dict(replay.confirmations),
        declarations=declarations,
        unverified=[
            i for i in replay.unopened if view == "party" and records[i].author == caller.member
        ],
        operations=operations,
        messages=messages,
        anomalies=[AnomalyAt(entry=i, reason=replay.reasons[i]) for i in replay.anomalies],
    )
