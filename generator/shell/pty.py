"""Interactive steps: spawn a program in a real pty (pexpect), type lines at its prompt, and record
what a person would have seen.

Prompts differ between images (`/ # ` in busybox, `root@c0ffee:/# ` in Debian, `$ ` in dash),
and busybox's line editor adds escape sequences around them. So a shell's first prompt is found
by its usual last character once the screen goes quiet; then the shell gets a unique PS1, as
pexpect's replwrap does, and every later prompt is matched exactly. The screen records the
program's own prompt in its place, so the transcript shows what the person saw.
Programs that are not POSIX shells take a `#@ prompt REGEX` instead.

The text handling (escape removal, carriage returns, prompt matching) is plain functions and a
Screen object, testable without a pty.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.shell.base import TIMEOUT_EXIT, Result, StepStopped

# The last characters of a shell prompt, possibly followed by the line editor's escape codes.
_ESCAPES = r"(?:\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r)*"
SHELL_PROMPT = re.compile(r"[#$>%][ \t]?" + _ESCAPES + r"\Z")
_ESCAPE = re.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)
# How long the screen must stay quiet before a matched first prompt counts as the prompt.
QUIET = 0.25
# How long a shell gets to show the unique prompt after we set PS1.
PS1_WAIT = 3.0


def clean(raw: str) -> str:
    """Terminal output as a person reads it: no escape codes, `\\r\\n` as `\\n`, and a bare `\\r`
    (a redrawn line) keeping only what was drawn last."""
    text = _ESCAPE.sub("", raw).replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            line = _overlay(line.split("\r"))
        lines.append(line)
    return "\n".join(lines)


def _overlay(parts: list[str]) -> str:
    shown = ""
    for part in parts:
        shown = part + shown[len(part) :]
    return shown


@dataclass
class Screen:
    """What the person saw, built up piece by piece."""

    text: str = ""
    pieces: list[str] = field(default_factory=list)

    def add(self, raw: str) -> None:
        piece = clean(raw)
        self.pieces.append(piece)
        self.text += piece

    def last_line(self) -> str:
        return self.text.rsplit("\n", 1)[-1]


@dataclass(frozen=True)
class PromptWatcher:
    """Decides whether the text so far ends in a prompt: the given regex, or a shell's usual end."""

    pattern: re.Pattern[str] = SHELL_PROMPT

    @classmethod
    def for_prompt(cls, prompt: str | None) -> PromptWatcher:
        if prompt is None:
            return cls()
        return cls(re.compile("(?:" + prompt + ")" + _ESCAPES + r"\Z"))

    def ends_in_prompt(self, text: str) -> bool:
        return self.pattern.search(text) is not None


def unique_prompt() -> tuple[str, str]:
    """(what we type to set PS1, the prompt it yields). The typed form splits the marker with
    quotes, so the echo of our own command line never matches it."""
    left, right = "[recipe-" + secrets.token_hex(4), secrets.token_hex(4) + "]"
    return f"PS1='{left}''{right}' PS2=''", left + right


def drive(
    spawn: str,
    lines: Sequence[str],
    prompt: str | None,
    timeout: float,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run one interactive session; the Result's stdout is the screen, exit the program's status."""
    import pexpect  # late: only labs with interactive steps pay for it

    started = time.monotonic()
    deadline = started + timeout
    screen = Screen()
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", spawn],
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(24, 200),
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
    child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
    session = _Session(child, screen, deadline, PromptWatcher.for_prompt(prompt))
    try:
        session.run(lines, custom_prompt=prompt is not None)
    except _TimedOut:
        child.terminate(force=True)
        return Result(spawn, screen.text, "", TIMEOUT_EXIT, time.monotonic() - started, True)
    except StepStopped as stop:  # a signal: the runner records what the screen showed so far
        stop.partial = Result(spawn, screen.text, "", -1, time.monotonic() - started)
        raise
    finally:
        if child.isalive():
            child.terminate(force=True)
    child.close()
    if child.exitstatus is not None:
        status = int(child.exitstatus)
    else:
        status = 128 + int(child.signalstatus or 0)
    return Result(spawn, screen.text, "", status, time.monotonic() - started)


class _TimedOut(Exception):
    pass


class _Session:
    def __init__(self, child: Any, screen: Screen, deadline: float, watcher: PromptWatcher) -> None:
        self.child = child
        self.screen = screen
        self.deadline = deadline
        self.watcher = watcher

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _TimedOut
        return left

    def read_some(self, wait: float) -> str | None:
        """Whatever the program printed within `wait` seconds: "" when quiet, None at its end."""
        import pexpect

        try:
            data: str = self.child.read_nonblocking(65536, timeout=min(wait, self.remaining()))
        except pexpect.TIMEOUT:
            return ""
        except pexpect.EOF:
            return None
        return data

    def first_prompt(self) -> str:
        """Read until the screen ends in a prompt and then stays quiet; return the raw text."""
        raw = ""
        try:
            while True:
                data = self.read_some(QUIET if self.watcher.ends_in_prompt(raw) else 1.0)
                if data is None:
                    raise _Ended(raw)
                if data == "" and self.watcher.ends_in_prompt(raw):
                    return raw
                raw += data
        except StepStopped:
            self.screen.add(raw)  # stopped by a signal: the runner records the screen so far
            raise

    def run(self, lines: Sequence[str], custom_prompt: bool) -> None:
        try:
            self.screen.add(self.first_prompt())
        except _Ended as ended:
            self.screen.add(ended.raw)  # it ended before any prompt, e.g. "No such container"
            return
        shown_prompt = self.screen.last_line()
        expect_next = self.set_unique_prompt() if not custom_prompt else None
        for line in lines:
            self.child.sendline(line)
            if not self.type_and_wait(expect_next, shown_prompt):
                return
        if custom_prompt:
            self.child.sendeof()
        else:
            self.child.sendline("exit")
        self.read_to_end()

    def set_unique_prompt(self) -> str | None:
        """Give the shell a prompt no output can contain; None when it is not a POSIX shell."""
        import pexpect

        command, marker = unique_prompt()
        self.child.sendline(command)
        try:
            self.child.expect_exact(marker, timeout=min(PS1_WAIT, self.remaining()))
        except pexpect.TIMEOUT:
            # Not a shell that takes PS1: go on matching the prompt we saw, quietly.
            return None
        return marker

    def type_and_wait(self, marker: str | None, shown_prompt: str) -> bool:
        """Wait for the prompt after a typed line; record echo, output and the prompt as seen.
        False when the program ended instead."""
        import pexpect

        if marker is None:
            try:
                self.screen.add(self.first_prompt())
            except _Ended as ended:
                self.screen.add(ended.raw)
                return False
            return True
        try:
            self.child.expect_exact(marker, timeout=self.remaining())
        except pexpect.TIMEOUT:
            self.screen.add(str(self.child.before))
            raise _TimedOut from None
        except (pexpect.EOF, StepStopped) as stopped:
            self.screen.add(str(self.child.before))  # pexpect keeps what it read meanwhile
            if isinstance(stopped, StepStopped):
                raise
            return False
        self.screen.add(str(self.child.before) + shown_prompt)
        return True

    def read_to_end(self) -> None:
        raw = ""
        try:
            while (data := self.read_some(self.remaining())) is not None:
                raw += data
        finally:
            self.screen.add(raw)


class _Ended(Exception):
    def __init__(self, raw: str) -> None:
        super().__init__("the program ended")
        self.raw = raw
