"""``accord serve --writer-process --reader-process``: the picture at an instant is read in a
process of its own, at a lower CPU priority, and answers what the one-process service
answers (each caller's view, pages, errors crossing back as the same problems); the reader
killed, a picture is refused (503 ``reader-unavailable``, never a 500) and the service stops
rather than serve on without it; restarted, it answers again."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from accord.center.reader_process import READER_NICE
from support.load import blue_officers_server, child_process, declaring, position
from support.load import made as made_by

EXTRA = ("--writer-process", "--reader-process")


def _nice(pid: int) -> int:
    """The nice value of ``pid``'s main thread (``/proc/PID/stat``, field 19)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    return int(stat.rsplit(")", 1)[1].split()[16])


def test_pictures_are_read_in_a_process_of_their_own(tmp_path: Path) -> None:
    server, auth, offices = blue_officers_server(tmp_path)
    watcher = {"Authorization": f"Bearer {server.add_user('watcher', 'observers', 'monitor')}"}
    server.start(extra=EXTRA)
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
            offices.start(client, offices.tokens)
            made = []
            for i in range(6):
                feature = position(0, i)  # shared and centre-only in turn
                path, body = declaring(feature)
                signed = offices.headers("blue-officer", "POST", path, body)
                answer = client.post(path, json=body, headers=signed)
                declared = made_by(answer)
                assert declared is not None, answer.text
                made.append((declared["id"], feature["properties"]["disclosure"]))
            at = datetime.now(UTC).isoformat()
            own = client.get("/v1/picture", params={"at": at})
            assert own.status_code == 200, own.text
            assert {d["id"] for d in own.json()["declarations"]} >= {i for i, _ in made}
            shared = client.get("/v1/picture", params={"at": at}, headers=watcher).json()
            assert {d["id"] for d in shared["declarations"]} & {i for i, _ in made} == {
                i for i, disclosure in made if disclosure == "shared"
            }
            first = client.get("/v1/picture", params={"at": at, "limit": 2}).json()
            assert len(first["declarations"]) == 2 and first["next"]
            stale = client.get("/v1/picture", params={"at": at, "limit": 2, "after": "1.2"})
            assert stale.status_code == 409, stale.text
            assert stale.json()["type"].endswith(":stale")
            reader = child_process(server, "reader_process")
            assert _nice(reader) == _nice(child_process(server, "writer_process")) + READER_NICE
            os.kill(reader, signal.SIGKILL)
            statuses = set()
            deadline = time.monotonic() + 30
            assert server.process is not None
            while server.process.poll() is None and time.monotonic() < deadline:
                try:
                    answer = client.get("/v1/picture", params={"at": at})
                except httpx.TransportError:
                    break  # the server has stopped listening
                statuses.add(answer.status_code)
                if answer.status_code == 503:
                    assert answer.json()["type"].endswith(":reader-unavailable")
                time.sleep(0.05)
            assert statuses <= {503}, statuses
            server.process.wait(timeout=30)  # it stopped by itself
        server.start(extra=EXTRA)
        with httpx.Client(base_url=server.url, headers=auth, timeout=30.0) as client:
            again = client.get("/v1/picture", params={"at": at})
            assert again.status_code == 200, again.text
            assert again.json()["declarations"] == own.json()["declarations"]
    finally:
        server.stop()
