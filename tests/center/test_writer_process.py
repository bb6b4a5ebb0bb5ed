"""The writer process's line (:mod:`accord.center.writer_process`): works sent over the socket
run on the writer's own service and come back with their results or their errors (as their
own classes, attributes and all); a writer that is not there, or goes away with works
waiting, is a :class:`~accord.errors.WriterUnavailable` (503) for each of them, never a hang
or a 500."""

from __future__ import annotations

import asyncio
import pickle
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from accord.center.http.problems import FieldProblem, ProblemError, kind_of, status_of
from accord.center.runtime import Center, Unit
from accord.center.writer_process import Loopback, RemoteWriter, portable, serve_writes
from accord.errors import IllegalTransition, InputError, Issue, ProbingSlowed, WriterUnavailable
from support.jig import NOW


def _append(unit: Unit, *, kind: str) -> tuple[int, str]:
    """A work: one record entry; its index and the origin of the service it ran in."""
    return unit.ledger.append({"kind": kind}, author="blue", at=NOW), unit.center.origin


def _refuse(unit: Unit, *, status: int | None = None, rule: str | None = None) -> None:
    """A work that writes, then raises: a problem, a rule's refusal, or an error that
    cannot cross to another process."""
    unit.ledger.append({"kind": "refused"}, author="blue", at=NOW)
    if status is not None:
        raise ProblemError(status, "no", kind="refused")
    if rule is not None:
        raise IllegalTransition(rule)
    raise _Unpicklable


class _Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


@pytest.fixture
def writer_socket(center: Center, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "writer.sock"
    stop = threading.Event()
    thread = threading.Thread(target=serve_writes, args=(center, path, stop), daemon=True)
    thread.start()
    while not path.exists():
        thread.join(0.01)
    try:
        yield path
    finally:
        stop.set()
        thread.join(5)


def _size(center: Center) -> int:
    with center.reading() as session:
        return center.log(session).size


def test_errors_cross_as_themselves() -> None:
    problem = ProblemError(
        409,
        "content_hash: not the hash of the message",
        kind="hash-mismatch",
        errors=[FieldProblem(field="content_hash", location="body", message="differs")],
        headers={"ETag": '"3"'},
    )
    back = pickle.loads(pickle.dumps(portable(problem)))
    assert isinstance(back, ProblemError)
    assert (back.status, back.detail, back.kind, back.headers) == (
        409,
        problem.detail,
        "hash-mismatch",
        {"ETag": '"3"'},
    )
    assert back.errors == problem.errors
    rule = pickle.loads(pickle.dumps(portable(IllegalTransition("not pending"))))
    assert type(rule) is IllegalTransition and str(rule) == "not pending"
    bad = pickle.loads(pickle.dumps(portable(InputError("request", [Issue("to", "empty")]))))
    assert isinstance(bad, InputError) and bad.issues == (Issue("to", "empty"),)
    slowed = pickle.loads(pickle.dumps(portable(ProbingSlowed("slowed", retry_after=7))))
    assert type(slowed) is ProbingSlowed and (str(slowed), slowed.retry_after) == ("slowed", 7)
    odd = pickle.loads(pickle.dumps(portable(_Unpicklable())))
    assert type(odd) is RuntimeError and "_Unpicklable" in str(odd)


def test_works_run_on_the_writer_and_answer_in_kind(center: Center, writer_socket: Path) -> None:
    remote = RemoteWriter(writer_socket)
    start = _size(center)

    async def main() -> list[Any]:
        done = await asyncio.gather(
            *(remote.write(partial(_append, kind=f"k{i}")) for i in range(20)),
            remote.write(partial(_refuse, status=409)),
            remote.write(partial(_refuse)),
            remote.write(partial(_append, kind=_Unpicklable)),  # cannot be read there
            return_exceptions=True,
        )
        await remote.close()
        return done

    *written, refused, odd, unread = asyncio.run(main())
    assert sorted(index for index, _ in written) == list(range(start, start + 20))
    assert {origin for _, origin in written} == {center.origin}
    assert isinstance(refused, ProblemError) and (refused.status, refused.kind) == (409, "refused")
    assert type(odd) is RuntimeError  # answered (a 500 at the edge), not lost
    assert isinstance(unread, Exception) and not isinstance(unread, ProblemError)
    assert _size(center) == start + 20  # the refused works left nothing


def test_loopback_is_the_same_boundary(center: Center) -> None:
    loop = Loopback(center)
    start = _size(center)

    async def main() -> tuple[Any, BaseException | None, BaseException | None]:
        index = await loop.write(partial(_append, kind="one"))
        errors: list[BaseException | None] = []
        for work in (partial(_refuse, rule="not pending"), partial(_refuse)):
            try:
                await loop.write(work)
            except Exception as raised:
                errors.append(raised)
        return index, errors[0], errors[1]

    (index, origin), rule, odd = asyncio.run(main())
    assert index == start and origin == center.origin
    assert type(rule) is IllegalTransition and type(odd) is RuntimeError
    with pytest.raises((pickle.PicklingError, AttributeError)):
        asyncio.run(loop.write(lambda unit: None))  # a closure cannot go to a writer process
    assert _size(center) == start + 1


def test_no_writer_is_a_503(tmp_path: Path) -> None:
    remote = RemoteWriter(tmp_path / "nobody.sock")
    with pytest.raises(WriterUnavailable) as raised:
        asyncio.run(remote.write(partial(_append, kind="x")))
    assert (status_of(raised.value), kind_of(raised.value)) == (503, "writer-unavailable")


def test_a_writer_gone_with_works_waiting_answers_each_503(tmp_path: Path) -> None:
    """A writer that reads the works and dies before answering: every waiting write is a
    503 (the change may or may not be stored), and the next one too."""
    path = tmp_path / "dying.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()

    def die_after_reading() -> None:
        connection, _ = listener.accept()
        connection.recv(1 << 16)
        connection.close()
        listener.close()

    thread = threading.Thread(target=die_after_reading, daemon=True)
    thread.start()
    remote = RemoteWriter(path)

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(remote.write(partial(_append, kind=f"k{i}")) for i in range(3)),
            return_exceptions=True,
        )

    answers = asyncio.run(main())
    thread.join(5)
    assert all(isinstance(a, WriterUnavailable) for a in answers), answers
    with pytest.raises(WriterUnavailable):
        asyncio.run(remote.write(partial(_append, kind="later")))


def test_the_api_tests_cross_the_boundary(service: Any) -> None:
    """The ``service`` fixture's application sends its routes' writes through
    :class:`Loopback` (its parts' writer: see ``tests/center/conftest.py``)."""
    assert isinstance(service.client.app.state.center.remote, Loopback)
    answer = service.post("/v1/presence", "blue-officer")
    assert answer.status_code == 201, answer.text
