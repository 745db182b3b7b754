"""A real headless Chromium, driven over the DevTools protocol on a pipe, for the page tests.

`--remote-debugging-pipe` speaks the protocol on file descriptors 3 (commands in) and 4 (replies
out), NUL-separated JSON. That needs no websocket client and no port. Every request a page makes
passes through the Fetch domain: file: and data: URLs go on, anything else is recorded and
failed before it leaves the browser, so a faulty page cannot send a packet off the machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def _high_pipe() -> tuple[int, int]:
    """A pipe whose ends sit above fd 9, so moving them onto fds 3 and 4 cannot clobber them."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageReport:
    """What a page did while it loaded: its errors and every request that was not local."""

    errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Browser:
    """One Chromium process with a fresh, empty profile; use as a context manager."""

    def __init__(self) -> None:
        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
        self._profile = tempfile.mkdtemp(prefix="recipe-chromium-")
        to_child_r, self._to_child = _high_pipe()
        self._from_child, from_child_w = _high_pipe()
        # bash (dash takes no fd above 9) moves our pipe ends onto fds 3 and 4 for Chromium.
        script = f'exec "$@" 3<&{to_child_r} 4>&{from_child_w} {to_child_r}<&- {from_child_w}>&-'
        self._proc = subprocess.Popen(
            [
                "bash",
                "-c",
                script,
                "bash",
                exe,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            pass_fds=(to_child_r, from_child_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=5)  # it may be gone already; killed below if not
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_child)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _read_loop(self) -> None:
        buffer = b""
        with os.fdopen(self._from_child, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    message = json.loads(raw)
                    if "id" in message:
                        with self._cond:
                            self._replies[message["id"]] = message
                            self._cond.notify_all()
                    else:
                        self._events.put(message)

    def post(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> int:
        """Send one command without waiting: Page.navigate replies only once we let the page's
        own request through, which we do while reading events."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        return self._next_id

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 30,
    ) -> dict[str, Any]:
        """Send one command and wait for its reply; a protocol error raises."""
        ident = self.post(method, params, session)
        deadline = time.monotonic() + timeout
        with self._cond:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self._proc.poll() is not None:
                    raise TimeoutError(f"no reply to {method}")
                self._cond.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def open(self, url: str, settle: float = 0.5, timeout: float = 30) -> tuple[str, PageReport]:
        """Load a URL in a new tab; return the tab's session and what happened while it loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session=session)
        report = PageReport()
        self.post("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + timeout
        loaded_at: float | None = None
        while True:
            now = time.monotonic()
            if loaded_at is not None and now - loaded_at >= settle:
                break
            if now >= deadline:
                report.errors.append(f"page did not finish loading within {timeout} s")
                break
            try:
                event = self._events.get(timeout=0.05)
            except queue.Empty:
                continue
            if event.get("sessionId") != session:
                continue
            if event["method"] == "Page.loadEventFired":
                loaded_at = time.monotonic()
            self._handle(event, session, report)
        return session, report

    def _handle(self, event: dict[str, Any], session: str, report: PageReport) -> None:
        method, params = event["method"], event.get("params", {})
        if method == "Fetch.requestPaused":
            url = params["request"]["url"]
            if url.startswith(LOCAL_SCHEMES):
                self.send("Fetch.continueRequest", {"requestId": params["requestId"]}, session)
            else:
                if url not in report.external_requests:
                    report.external_requests.append(url)
                self.send(
                    "Fetch.failRequest",
                    {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                    session,
                )
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            report.requests.append(url)
            if not url.startswith(LOCAL_SCHEMES) and url not in report.external_requests:
                report.external_requests.append(url)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            report.errors.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            report.errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            report.errors.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")

    def evaluate(self, session: str, expression: str, timeout: float = 60) -> Any:
        """The value of a JavaScript expression in the page, awaiting it when it is a promise."""
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session,
            timeout=timeout,
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"page raised: {reply['exceptionDetails']}")
        return reply["result"].get("value")


def file_url(path: Path) -> str:
    return path.resolve().as_uri()
