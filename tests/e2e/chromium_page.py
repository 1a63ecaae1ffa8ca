"""A page opened in headless Chromium, driven through the Chrome DevTools protocol.

Chromium is started with ``--remote-debugging-pipe``: it reads protocol messages on its
file descriptor 3 and writes them on 4, each a JSON object ended by a NUL byte, so no
websocket client is needed. The page's console calls (``Runtime.consoleAPICalled``),
uncaught exceptions (``Runtime.exceptionThrown``), browser log entries
(``Log.entryAdded``) and every request it makes (``Network.requestWillBeSent``) are kept
while it loads, for a test to check that it loaded clean and fetched nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

CHROMIUM_ENV = "RUNNER_CHROMIUM"
TIMEOUT = 60.0


def chromium_binary() -> str | None:
    return (
        os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def need_chromium() -> str:
    """The browser, or the test fails (``RUNNER_REQUIRE_SERVICES=1``, as in CI) or skips,
    as a missing service does in tests/conftest.py."""
    binary = chromium_binary()
    if binary is None:
        reason = (
            f"chromium is not installed (Debian: apt-get install chromium; or set {CHROMIUM_ENV})"
        )
        if os.environ.get("RUNNER_REQUIRE_SERVICES") == "1":
            pytest.fail(f"required service missing: {reason}", pytrace=False)
        pytest.skip(reason)
    return binary


@dataclass
class Loaded:
    """What the page did while it loaded."""

    url: str
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, browser log errors."""
        out = [
            f"console.{c['type']}: {' '.join(_shown(a) for a in c['args'])}"
            for c in self.console
            if c["type"] in ("error", "warning", "assert")
        ]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [
            f"log {e['level']}: {e['text']} ({e.get('url', '')})"
            for e in self.log
            if e["level"] in ("error", "warning")
        ]
        return out


def _shown(argument: dict[str, Any]) -> str:
    return str(argument.get("value", argument.get("description", "")))


class Chromium:
    def __init__(self, binary: str, profile: Path) -> None:
        self.binary, self.profile = binary, profile
        self._next = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        commands_r, commands_w = os.pipe()
        answers_r, answers_w = os.pipe()
        # Copies at 10 or above, so that moving them onto 3 and 4 clobbers neither.
        high_r, high_w = (
            fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_r, answers_w)
        )

        def onto_3_and_4() -> None:
            # dup2 makes 3 and 4 inheritable: they alone of these stay open across exec.
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.stderr = (self.profile / "stderr.txt").open("wb")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--headless=new",
                "--remote-debugging-pipe",
                "--no-sandbox",  # tests run as root in CI, where the sandbox cannot start
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--disable-background-networking",
                "--no-first-run",
                "--no-default-browser-check",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            close_fds=False,  # the parent's descriptors are not inheritable (PEP 446)
            preexec_fn=onto_3_and_4,
        )
        for fd in (commands_r, answers_w, high_r, high_w):
            os.close(fd)
        self._write, self._read = commands_w, answers_r
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.process.poll() is None:
                with contextlib.suppress(OSError, TimeoutError, EOFError, RuntimeError):
                    self.call("Browser.close", timeout=10)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            os.close(self._write)
            os.close(self._read)
            self.stderr.close()

    # --- the protocol ------------------------------------------------------------------

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        return self._next

    def _receive(self, until: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = until - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"chromium said nothing for {TIMEOUT}s; its stderr: {self._stderr()}"
                )
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 16)
                if not chunk:
                    raise EOFError(f"chromium exited; its stderr: {self._stderr()}")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = TIMEOUT,
    ) -> dict[str, Any]:
        wanted = self.send(method, params, session)
        until = time.monotonic() + timeout
        while True:
            message = self._receive(until)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)

    def _wait_for(self, method: str, session: str) -> None:
        until = time.monotonic() + TIMEOUT
        if any(e["method"] == method and e.get("sessionId") == session for e in self._events):
            return
        while True:
            message = self._receive(until)
            if "method" in message:
                self._events.append(message)
                if message["method"] == method and message.get("sessionId") == session:
                    return

    def _stderr(self) -> str:
        self.stderr.flush()
        return (self.profile / "stderr.txt").read_text(errors="replace")[-2000:]

    # --- a page ---------------------------------------------------------------------------

    def open(self, path: Path) -> Page:
        """Loads the file in a new tab and waits for its load event."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable", session=session)
        self._events.clear()
        url = path.resolve().as_uri()
        self.call("Page.navigate", {"url": url}, session=session)
        self._wait_for("Page.loadEventFired", session)
        page = Page(self, session, Loaded(url=url))
        page.evaluate("0")  # a round trip: what the load logged has arrived
        return page


class Page:
    def __init__(self, browser: Chromium, session: str, loaded: Loaded) -> None:
        self.browser, self.session, self.loaded = browser, session, loaded

    def evaluate(self, expression: str) -> Any:
        answer = self.browser.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True},
            session=self.session,
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        self._take_events()
        return answer["result"].get("value")

    def _take_events(self) -> None:
        mine = [e for e in self.browser._events if e.get("sessionId") == self.session]
        self.browser._events = [
            e for e in self.browser._events if e.get("sessionId") != self.session
        ]
        for event in mine:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                self.loaded.console.append(params)
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text", "")
                self.loaded.exceptions.append(text)
            elif method == "Log.entryAdded":
                self.loaded.log.append(params.get("entry", {}))
            elif method == "Network.requestWillBeSent":
                self.loaded.requests.append(params.get("request", {}).get("url", ""))
