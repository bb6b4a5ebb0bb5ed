"""The page against a real ``accord serve --demo``: the server in a folder of its own, each
user's browser context signed in (its device key certified by the demo's offices), and the
small helpers the browser tests share (tests/e2e/conftest.py makes the fixtures)."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from bench.live import ACCORD, free_port

from accord.chrono import parse_instant
from accord.office import Office, SignedActs, act_headers
from accord.record.canonical import encode_base64
from accord.record.keys import PrivateKey, generate
from accord.record.registry import DEVICE_REPORTS

ROOT = Path(__file__).resolve().parents[2]

try:
    from playwright.sync_api import Browser, BrowserContext, Page
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # pragma: no cover - the test extra installs it (the fixture skips)
    PlaywrightError = Exception


@dataclass
class Demo:
    url: str
    tokens: dict[str, str]
    folder: Path

    def api(self, user: str) -> httpx.Client:
        """A client of ``user``, its writes signed by the user's key in the demo's office
        for its member (``var/demo-offices``), at the center's exercise clock."""
        me, clock = self._me(user)
        return self._client(user, me, self._office(me).user_key(user), clock)

    def gateway(self, user: str) -> httpx.Client:
        """A client of ``user`` signing as a party's TAK gateway does (``accord cot
        gateway``): with a key made here and registered by the member's root, in the demo's
        office, for the purpose ``device-reports`` only (its devices' positions, tracks and
        drafts, nothing else), at the center's exercise clock."""
        me, clock = self._me(user)
        office = self._office(me)
        key = generate(me["member"])
        body = {
            "user": user,
            "public_key": encode_base64(key.public.raw),
            "purposes": [DEVICE_REPORTS],
        }
        path = "/v1/keys/registrations"
        headers, _ = act_headers(
            office.root(), origin=me["origin"], member=me["member"], user=user,
            method="POST", path=path, body=body, at=clock(),
        )  # fmt: skip
        headers["Authorization"] = f"Bearer {self.tokens[user]}"
        made = httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=30.0)
        assert made.status_code == 201, made.text
        return self._client(user, me, key, clock)

    def _me(self, user: str) -> tuple[dict[str, Any], Callable[[], datetime]]:
        """``user``'s ``/v1/me`` and the center's exercise clock as read from it."""
        token = self.tokens[user]
        me: dict[str, Any] = httpx.get(
            f"{self.url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30.0
        ).json()
        offset = parse_instant(me["now"]) - datetime.now(UTC)
        return me, lambda: datetime.now(UTC) + offset

    def _office(self, me: dict[str, Any]) -> Office:
        return Office(self.folder / "var" / "demo-offices" / me["member"], me["member"])

    def _client(
        self, user: str, me: dict[str, Any], key: PrivateKey, clock: Callable[[], datetime]
    ) -> httpx.Client:
        auth = SignedActs(
            token=self.tokens[user],
            key=key,
            origin=me["origin"],
            member=me["member"],
            user=user,
            clock=clock,
        )
        return httpx.Client(base_url=self.url, auth=auth, timeout=30.0)


@contextmanager
def demo_server(
    folder: Path,
    *extra: str,
    accord: tuple[str, ...] | list[str] = ACCORD,
    env: dict[str, str] | None = None,
) -> Iterator[Demo]:
    """``accord serve --demo`` in a folder of its own (``extra``: more options); the tokens
    it prints. ``accord``: the command (default: this checkout's, under this interpreter);
    ``env``: the process's whole environment (default: this one's, the checkout's ``src``
    first on ``PYTHONPATH``)."""
    port = free_port()
    log_path = folder / "server.log"
    if env is None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        }
    env.pop("ACCORD_DATABASE_URL", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*accord, "serve", "--demo", "--port", str(port), *extra],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/openapi.json", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        tokens = dict(
            re.findall(r"^\s{2}(\S+)\s+([A-Za-z0-9_-]{30,})$", log_path.read_text(), re.M)
        )
        assert {"blue-officer", "red-approver", "observer"} <= tokens.keys(), tokens
        yield Demo(url, tokens, folder)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


class Session:
    """One user's browser context, signed in, with the page's errors collected."""

    def __init__(self, browser: Browser, demo: Demo, user: str) -> None:
        self.context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 860})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(demo.url + "/")
        self.page.fill("#token", demo.tokens[user])
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        # the browser made its key and offered it; the demo's offices certify it
        self.page.wait_for_selector("body[data-acting=true]", timeout=30_000)

    def close(self) -> None:
        assert self.errors == [], self.errors
        self.context.close()


@contextmanager
def signed_in(browser: Browser, demo: Demo) -> Iterator[Callable[[str], Session]]:
    """Opens sessions by user name; on leaving, checks none saw a page error and closes them."""
    opened: list[Session] = []

    def open_(user: str) -> Session:
        s = Session(browser, demo, user)
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.close()


def drawn(page: Page) -> None:
    """Wait until both canvases were drawn again with what is there now."""
    page.evaluate(
        "() => window.accordMap.drawn().then(() => new Promise((r) =>"
        " requestAnimationFrame(() => requestAnimationFrame(r))))"
    )


def map_point(page: Page, lon: float, lat: float) -> tuple[float, float]:
    box = page.locator("#map").bounding_box()
    assert box is not None
    x, y = page.evaluate(
        "([lon, lat]) => { const p = window.accordMap.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lon, lat],
    )
    return box["x"] + x, box["y"] + y


def screen_colours(page: Page, points: list[tuple[float, float]]) -> list[tuple[int, int, int]]:
    """The colours on screen at ``points`` (page pixels), read from a screenshot: what the
    user sees there, every canvas and layer composited."""
    png = page.screenshot()
    scratch = page.context.new_page()  # a blank page: no CSP in the way of a data: image
    try:
        got: list[list[int]] = scratch.evaluate(
            """async ([b64, pts]) => { const blob = await (await fetch(
                 'data:image/png;base64,' + b64)).blob();
               const img = await createImageBitmap(blob);
               const c = new OffscreenCanvas(img.width, img.height), g = c.getContext('2d');
               g.drawImage(img, 0, 0);
               return pts.map(([x, y]) => [...g.getImageData(Math.floor(x), Math.floor(y), 1, 1)
                 .data].slice(0, 3)); }""",
            [base64.b64encode(png).decode(), points],
        )
    finally:
        scratch.close()
    return [(r, g, b) for r, g, b in got]


def into_view(item: Any) -> None:
    """Scroll ``item`` into view; a live event may redraw the list under the action, so the
    locator is found again and the scroll tried again (a few times)."""
    for _ in range(4):
        try:
            item.scroll_into_view_if_needed(timeout=5_000)
            return
        except PlaywrightError:
            continue
    into_view(item)


def csp_refusals(*pages: Page) -> list[str]:
    """What the Content-Security-Policy blocks on ``pages`` from now on (filled as it
    happens)."""
    refused: list[str] = []
    for page in pages:
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
    return refused


def as_shown(instant: str) -> str:
    """An API instant as the page shows every instant: ``YYYY-MM-DD HH:MM:SSZ`` (UTC)."""
    return parse_instant(instant).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def as_typed(instant: datetime) -> str:
    """An instant as typed into the page's UTC time fields: ``YYYY-MM-DD HH:MM``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
