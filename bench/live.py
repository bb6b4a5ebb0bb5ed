"""A real server for end-to-end tests and the load bench: ``accord serve`` in its own process
on a free loopback port, users registered with ``accord users add``, and a way to kill it
hard."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ACCORD = [sys.executable, "-c", "from accord.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """One ``accord serve`` process over a database and a keys folder that outlive it."""

    database_url: str
    keys_dir: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    agreement_path: Path | None = None
    """The agreement it serves (None: the embedded default)."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "ACCORD_DATABASE_URL": self.database_url}

    def _keys(self) -> list[str]:
        # the center signs the change's entry
        agreement = [] if self.agreement_path is None else ["--agreement", str(self.agreement_path)]
        return ["--keys", str(self.keys_dir), *agreement]

    def add_user(self, name: str, member: str, role: str, *, clock: str | None = None) -> str:
        """``accord users add``; ``clock``: an exercise clock (``START@ORIGIN``,
        ``ACCORD_CLOCK``) the center's entries are stamped on."""
        env = self.env() if clock is None else {**self.env(), "ACCORD_CLOCK": clock}
        done = subprocess.run(
            [*ACCORD, "users", "add", name, "--member", member, "--role", role, *self._keys()],
            env=env,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return done.stdout.decode().strip()

    def start(self, *, timeout: float = 60.0, extra: tuple[str, ...] = ()) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*ACCORD, "serve", "--port", str(self.port), *self._keys(), *extra],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_for("/openapi.json", timeout=timeout)

    def wait_for(self, path: str, *, timeout: float, every: float = 0.1) -> None:
        """Return once ``path`` answers 200 (no token); kill the server and raise if it
        exits or ``timeout`` seconds pass first."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}{path}", timeout=5.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(every)
        self.kill()
        raise RuntimeError(f"{path} did not answer 200: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL, no chance to clean up: what a power cut does to the process."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
