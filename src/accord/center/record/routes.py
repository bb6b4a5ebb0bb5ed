"""``/v1/record``: the signed tree head, entries by range, inclusion and consistency proofs,
and co-signing of a head by a party.

Readable by officers, approvers, monitors and administrators; a humanitarian notifier sees
only its own declarations, not the record. Hashes and leaf data are standard base64.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.center import visibility
from accord.center.http.auth import allow
from accord.center.http.deps import CONFLICT, ERRORS, CenterDep
from accord.center.http.problems import FieldProblem, ProblemError
from accord.center.http.writes import write
from accord.center.identity import Caller
from accord.center.record.heads import cosign, cosigners, latest_head
from accord.center.record.witnesses import head_witnesses
from accord.center.roles import Role
from accord.center.runtime import Center, Unit
from accord.record.canonical import encode_base64
from accord.record.merkle import leaf_hash
from accord.record.note import SignedHead

router = APIRouter(prefix="/v1/record", tags=["record"], responses=ERRORS)

MAX_PAGE = 256
"""The most entries one page of ``/v1/record/entries`` returns."""

_READERS = allow(*visibility.RECORD_READERS)
_COSIGNERS = allow(Role.OFFICER, Role.APPROVER, Role.MONITOR)
Reader = Annotated[Caller, Depends(_READERS)]


class WitnessOut(BaseModel):
    """A party's witness as the served head shows it (times in seconds since the epoch)."""

    party: str = Field(description="The party whose witness it is.")
    name: str = Field(description="The witness's key name.")
    cosigned: bool = Field(description="Whether its cosignature is on this head.")
    size: int = Field(description="The size of the largest head it cosigned (0: none).")
    cosigned_at: int | None = Field(description="The time of that cosignature.")
    behind_since: int | None = Field(
        description="When it is behind: the time of the first head it has not cosigned."
    )
    error: str | None = Field(description="Why the center's last request to it failed.")


class WitnessedOut(BaseModel):
    """A head every party's witness cosigned: its size and the last cosignature's time."""

    size: int
    at: int


class HeadOut(BaseModel):
    """A tree head signed by the center: the C2SP checkpoint note and its fields, who
    cosigned it, and the parties' witnesses (``witnessed``: every one cosigned it)."""

    origin: str
    size: int
    root: str
    timestamp: int
    note: str
    cosigned_by: list[str]
    witnesses: list[WitnessOut] = Field(default_factory=list)
    witnessed: bool = False
    witnessed_at: int | None = None
    last_witnessed: WitnessedOut | None = None


class EntryOut(BaseModel):
    """One leaf of the log: its index and data (base64)."""

    index: int
    data: str


class EntriesOut(BaseModel):
    """Entries ``start`` to ``end - 1`` of a log of ``size`` entries."""

    start: int
    end: int
    size: int
    entries: list[EntryOut]


class InclusionOut(BaseModel):
    """The audit path of entry ``index`` in the tree of ``size`` entries (RFC 9162)."""

    index: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    """The proof that the tree of ``old_size`` entries is a prefix of the tree of ``size``."""

    old_size: int
    size: int
    old_root: str
    root: str
    proof: list[str]


class CosignIn(BaseModel):
    """The center's signed head with the caller's co-signature line added."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=64 * 1024)


def _head_out(center: Center, head: SignedHead) -> HeadOut:
    """The head with its cosigners (members and witnesses whose lines verify) and what it
    says of the parties' witnesses."""
    seen = head_witnesses(center, head)
    cosigned = cosigners(center.ring, head.note) + sorted(
        w.name for w in seen.witnesses if w.cosigned
    )
    last = seen.last_witnessed
    return HeadOut(
        **head.to_json(),
        cosigned_by=cosigned,
        witnesses=[
            WitnessOut(
                party=w.party,
                name=w.name,
                cosigned=w.cosigned,
                size=w.size,
                cosigned_at=w.cosigned_at,
                behind_since=w.behind_since,
                error=w.error,
            )
            for w in seen.witnesses
        ],
        witnessed=seen.witnessed,
        witnessed_at=seen.witnessed_at,
        last_witnessed=None if last is None else WitnessedOut(size=last[0], at=last[1]),
    )


def _bad(field: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        f"{field}: {message}",
        kind="validation",
        errors=[FieldProblem(field=field, location="query", message=message)],
    )


@router.get("/head", response_model=HeadOut, summary="The latest signed tree head")
def head(center: CenterDep, _caller: Reader) -> HeadOut:
    """The center's latest signed checkpoint over the whole log (signed on demand when the
    log has grown), with the co-signatures gathered so far (``cosigned_by``: members' and
    witnesses' key names), and each party's witness: whether it
    cosigned this head, the last head it cosigned and since when it is behind;
    ``witnessed`` when every party's witness cosigned this head."""
    return _head_out(center, latest_head(center))


@router.get("/entries", response_model=EntriesOut, summary="Entries by range")
def entries(
    center: CenterDep,
    _caller: Reader,
    start: Annotated[int, Query(ge=0)] = 0,
    end: Annotated[int | None, Query(ge=0, description="Exclusive; default start + 256")] = None,
) -> EntriesOut:
    """Leaf data of entries ``start`` to ``end - 1``, at most 256 at a time (a shorter page
    when the log or the page ends first)."""
    with center.reading() as session:
        log = center.log(session)
        size = log.size
        if start > size:
            raise _bad("start", f"the log holds {size} entries")
        if end is not None and end < start:
            raise _bad("end", "end comes before start")
        stop = min(size, start + MAX_PAGE, size if end is None else end)
        rows = [EntryOut(index=i, data=encode_base64(d)) for i, d in log.entries(start, stop)]
    return EntriesOut(start=start, end=stop, size=size, entries=rows)


@router.get("/proofs/inclusion", response_model=InclusionOut, summary="Inclusion proof")
def inclusion(
    center: CenterDep,
    _caller: Reader,
    index: Annotated[int, Query(ge=0)],
    size: Annotated[int | None, Query(ge=1, description="Tree size; default: the log's")] = None,
) -> InclusionOut:
    """The proof that entry ``index`` is in the tree of ``size`` entries (a signed head's
    size), to check with ``accord.record.merkle.verify_inclusion``."""
    with center.reading() as session:
        log = center.log(session)
        n = log.size if size is None else size
        if n > log.size:
            raise _bad("size", f"the log holds {log.size} entries")
        if index >= n:
            raise _bad("index", f"no entry {index} in a tree of {n} entries")
        proof = log.inclusion_proof(index, n)
        return InclusionOut(
            index=index,
            size=n,
            leaf_hash=encode_base64(leaf_hash(log.entry(index))),
            root=encode_base64(log.root(n)),
            proof=[encode_base64(p) for p in proof],
        )


@router.get("/proofs/consistency", response_model=ConsistencyOut, summary="Consistency proof")
def consistency(
    center: CenterDep,
    _caller: Reader,
    old_size: Annotated[int, Query(alias="from", ge=0)],
    size: Annotated[int | None, Query(ge=0, description="Tree size; default: the log's")] = None,
) -> ConsistencyOut:
    """The proof that the tree of ``from`` entries is a prefix of the tree of ``size``, to
    check with ``accord.record.merkle.verify_consistency``."""
    with center.reading() as session:
        log = center.log(session)
        n = log.size if size is None else size
        if n > log.size:
            raise _bad("size", f"the log holds {log.size} entries")
        if old_size > n:
            raise _bad("from", f"from is larger than the size {n}")
        proof = log.consistency_proof(old_size, n)
        return ConsistencyOut(
            old_size=old_size,
            size=n,
            old_root=encode_base64(log.root(old_size)),
            root=encode_base64(log.root(n)),
            proof=[encode_base64(p) for p in proof],
        )


@router.post("/cosign", response_model=HeadOut, summary="Co-sign a signed head", responses=CONFLICT)
async def cosign_head(
    center: CenterDep,
    request: Request,
    caller: Annotated[Caller, Depends(_COSIGNERS)],
    body: Annotated[CosignIn, Body()],
) -> JSONResponse:
    """Add the caller's co-signature to a head the center signed. The caller's member signs
    on its own machine (``accord.record.note.Witness``) and sends the whole co-signed note;
    the server checks that line against the member's key and keeps it with the head."""
    act = partial(_cosign, member=caller.member, note=body.note)
    return await write(center, request, caller, act, body=body, status=200)


def _cosign(unit: Unit, *, member: str, note: str) -> HeadOut:
    """The writer's work (a module function: a writer process receives it pickled)."""
    return _head_out(unit.center, cosign(unit, unit.center, member, note))
