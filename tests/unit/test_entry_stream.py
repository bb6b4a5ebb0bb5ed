""":class:`~accord.record.verify.EntryStream` — the checks of ``accord verify`` on a log that
grows, what ``accord monitor`` runs: fed a log in any cut into batches, over any number of
calls, it says what :func:`verify_log` says of the whole (the oracle): the same entry, for
the same reason, in a bad log (said as far as the log is known when the entry comes: an act
before the agreement is in force is named before the entry that puts it in force has come);
the same sequences and root for a good one."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.record import merkle
from accord.record.log import MerkleLog
from accord.record.registry import DEVICE_REPORTS
from accord.record.verify import EntryStream, VerificationError, verify_log
from support.record import seeded
from support.rooted_log import AMIRA, APPROVE, OMAR, RING, RootedLog, rooted, standard


def good(log: RootedLog) -> None:
    standard(log, acts_each=1)
    first = log.approve("blue", "amira", 7)
    log.of({"kind": "operation.executed", "n": 7}, "blue", first)
    log.register("red", "omar", seeded("omar-2"), replaces=OMAR.key_id)
    log.center({"kind": "note"})


def replayed(log: RootedLog) -> None:
    standard(log)
    signed = log.signed("blue", "amira", AMIRA, APPROVE, {"version": 5})
    log.take({"kind": "operation.approved"}, signed)
    log.center({"kind": "note"})
    log.take({"kind": "operation.approved"}, signed)
    log.center({"kind": "note", "n": 2})


def revoked(log: RootedLog) -> None:
    standard(log)
    log.approve("red", "omar", 10)
    log.revoke("red", OMAR.key_id)
    log.approve("red", "omar", 11)
    log.center({"kind": "note"})


def early(log: RootedLog) -> None:
    log.sign_agreement("blue")
    log.register("blue", "amira", AMIRA)
    log.approve("blue", "amira")
    log.sign_agreement("red")


def gateway(log: RootedLog) -> None:
    """A device-reports key signs its devices' reports, then an approval (named)."""
    standard(log)
    gate = seeded("blue-gateway")
    log.register("blue", "gw", gate, purposes=(DEVICE_REPORTS,))
    for n in range(4):
        log.take({"kind": "note", "n": n}, log.signed("blue", "gw", gate, "POST /v1/tracks", {}))
    log.take({"kind": "operation.approved"}, log.signed("blue", "gw", gate, APPROVE, {}))
    log.center({"kind": "note"})


SCENARIOS: dict[str, Callable[[RootedLog], None]] = {
    "good": good,
    "gateway": gateway,
    "replayed": replayed,
    "revoked": revoked,
    "early": early,
}
_BUILT: dict[str, tuple[list[bytes], str | None, dict[str, int]]] = {}


def built(name: str) -> tuple[list[bytes], str | None, dict[str, int]]:
    """The scenario's leaves, and verify_log's verdict on them (error text, or None and the
    sequences)."""
    if name not in _BUILT:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "log.sqlite"
            with rooted(path) as log:
                SCENARIOS[name](log)
            try:
                report = verify_log(path, keys=RING, workers=1)
                verdict, authors = None, report.authors
            except VerificationError as error:
                verdict, authors = str(error), {}
            with MerkleLog.open(path, read_only=True) as stored:
                leaves = [data for _, data in stored.entries()]
        _BUILT[name] = (leaves, verdict, authors)
    return _BUILT[name]


def streamed(leaves: list[bytes], cuts: list[int], calls: int) -> tuple[str | None, EntryStream]:
    """Feed ``leaves`` cut at ``cuts`` into batches, the batches spread over ``calls``."""
    edges = sorted({0, len(leaves), *(c % (len(leaves) + 1) for c in cuts)})
    batches = [leaves[a:b] for a, b in itertools.pairwise(edges)]
    per = max(1, -(-len(batches) // calls))
    stream = EntryStream(keys=RING)
    try:
        for k in range(0, len(batches), per):
            stream.extend(batches[k : k + per], reread=lambda s, e: leaves[s:e])
    except VerificationError as error:
        return str(error), stream
    finally:
        stream.close()
    return None, stream


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(sorted(SCENARIOS)),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    calls=st.integers(min_value=1, max_value=4),
)
def test_any_cut_says_what_verify_log_says(name: str, cuts: list[int], calls: int) -> None:
    leaves, verdict, authors = built(name)
    got, stream = streamed(leaves, cuts, calls)
    if verdict is None or got is None:
        assert got == verdict
    else:  # the entry and the reason; what the log says after the entry may be unknown yet
        assert got.split(" (")[0] == verdict.split(" (")[0]
    if verdict is None:
        assert stream.size == len(leaves) and stream.last_seq == authors
        assert stream.root() == merkle.root_hash([merkle.leaf_hash(x) for x in leaves])


def test_a_spent_stream_refuses_more_and_a_failed_fetch_does_not_spend_it() -> None:
    leaves, _, _ = built("replayed")
    with EntryStream(keys=RING) as stream, pytest.raises(VerificationError):
        stream.extend([leaves], reread=lambda s, e: leaves[s:e])
    with pytest.raises(VerificationError, match="already found the log bad"):
        stream.extend([leaves[:1]])
    good_leaves, _, _ = built("good")

    def failing() -> object:
        yield good_leaves[:3]
        raise OSError("the fetch failed")

    with EntryStream(keys=RING) as again:
        with pytest.raises(OSError, match="the fetch failed"):
            again.extend(failing())  # type: ignore[arg-type]
        assert again.size == 3
        again.extend([good_leaves[3:]], reread=lambda s, e: good_leaves[s:e])
        assert again.size == len(good_leaves)


def test_workers_check_large_batches_as_one_process_does(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    with rooted(path) as log:
        standard(log, acts_each=1)
        with log.batch():
            for i in range(5000):
                if i % 3 == 0:
                    log.approve("red", "omar", i)
                else:
                    log.center({"kind": "note", "n": i})
    with MerkleLog.open(path, read_only=True) as stored:
        leaves = [data for _, data in stored.entries()]
    with EntryStream(keys=RING, workers=2) as stream:
        stream.extend([leaves[:3000], leaves[3000:]], reread=lambda s, e: leaves[s:e])
        assert stream.last_seq == verify_log(path, keys=RING, workers=1).authors
