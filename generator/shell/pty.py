"""Interactive steps: the one pty driver. It types lines at a program's prompt, waits for the next
prompt, ends the session and records what a person would have seen, over any byte stream.

A transport only supplies the stream of a program running in a pseudo-terminal (a `PtyStream`):
generator/shell/pty_local.py spawns it on this machine's pty (pexpect), generator/shell/pty_ssh.py
reads it from an SSH channel with a pty (paramiko). pexpect's prompt matching runs over either.

Prompts differ between images (`/ # ` in busybox, `root@c0ffee:/# ` in Debian, `$ ` in dash),
and busybox's line editor adds escape sequences around them. So a shell's first prompt is found
by its usual last character once the screen goes quiet; then the shell gets a unique PS1, as
pexpect's replwrap does, and every later prompt is matched exactly. The screen records the
program's own prompt in its place, so the transcript shows what the person saw.
Programs that are not POSIX shells take a `#@ prompt REGEX` instead.

The text handling (escape removal, carriage returns, prompt matching) is plain functions and a
Screen object, testable without a pty. Callers import this module lazily: pexpect loads only
when a lab has interactive steps.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pexpect
from pexpect.spawnbase import SpawnBase

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
# "Where is the cursor?": busybox ash asks, and a program that waits for the answer would take
# our typing for it. We answer as a terminal would.
CURSOR_QUERY = b"\x1b[6n"
CURSOR_AT = b"\x1b[1;1R"
ENTER = "\r"  # what the Enter key sends: raw-mode line editors and cooked ptys both take it
EOF_KEY = "\x04"  # Ctrl-D, the pty's end-of-input character
INTERRUPT_KEY = "\x03"  # Ctrl-C
DETACH_KEYS = "\x10\x11"  # Ctrl-P Ctrl-Q: Docker's detach sequence, the shell keeps running


class PtyStream(Protocol):
    """What a transport provides: the byte stream of one program running in a pty."""

    def read(self, size: int, timeout: float | None) -> bytes:
        """Up to `size` bytes within `timeout` s (None: no limit); b"" when none came, EOFError
        once the program's output has ended."""

    def write(self, data: bytes) -> None:
        """Type `data` at the terminal (all of it)."""

    def exit_status(self) -> int:
        """The program's exit status, once its output has ended."""

    def close(self) -> None:
        """End the program if it still runs (hang up its terminal) and let go of it. Idempotent."""


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


if TYPE_CHECKING:
    _SpawnBase = SpawnBase[str]  # generic only in the type stubs
else:
    _SpawnBase = SpawnBase


class Terminal(_SpawnBase):
    """pexpect's matching (expect, before, buffer) over a transport's PtyStream, as text."""

    def __init__(self, stream: PtyStream, timeout: float) -> None:
        super().__init__(timeout=timeout, encoding="utf-8", codec_errors="replace")
        self.stream = stream
        # Incremental: a character split across two reads decodes whole.
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.delaybeforesend = None  # pexpect would sleep 50 ms before each send

    def read_nonblocking(self, size: int = 1, timeout: float | None = -1) -> Any:
        wait = self.timeout if timeout == -1 else timeout
        try:
            data = self.stream.read(max(size, 1024), None if wait is None else max(wait, 0.0))
        except EOFError:
            self.flag_eof = True
            raise pexpect.EOF("the program ended") from None
        if not data:
            raise pexpect.TIMEOUT("no output from the program")
        if CURSOR_QUERY in data:  # split across two reads it goes unanswered: it never was
            self.stream.write(CURSOR_AT)
        text: str = self._utf8.decode(data, final=False)
        return text

    def send(self, s: str | bytes) -> int:
        data = s.encode() if isinstance(s, str) else s
        self.stream.write(data)
        return len(data)

    def sendline(self, s: str | bytes = "") -> int:
        return self.send((s.decode() if isinstance(s, bytes) else s) + ENTER)


def run_session(
    stream: PtyStream,
    spawn: str,
    lines: Sequence[str],
    prompt: str | None,
    timeout: float,
    attach: bool = False,
) -> Result:
    """Run one interactive session; the Result's stdout is the screen, exit the program's status.

    `stream` is the program `spawn`, already started in a pty by the transport; the driver closes
    it. A session that outlives `timeout` is interrupted and hung up (exit TIMEOUT_EXIT).
    """
    started = time.monotonic()
    screen = Screen()
    session = _Session(Terminal(stream, timeout), screen, started + timeout, prompt, attach)
    try:
        session.run(lines)
        status = stream.exit_status()
    except _TimedOut:
        with contextlib.suppress(OSError):  # already gone: the hang-up below is enough
            stream.write(INTERRUPT_KEY.encode())  # as a person would, before hanging up
        return Result(spawn, screen.text, "", TIMEOUT_EXIT, time.monotonic() - started, True)
    except StepStopped as stop:  # a signal: the runner records what the screen showed so far
        stop.partial = Result(spawn, screen.text, "", -1, time.monotonic() - started)
        raise
    finally:
        stream.close()
    return Result(spawn, screen.text, "", status, time.monotonic() - started)


class _TimedOut(Exception):
    pass


class _Ended(Exception):
    def __init__(self, raw: str) -> None:
        super().__init__("the program ended")
        self.raw = raw


class _Session:
    """Types the lines of one session and builds its screen."""

    def __init__(
        self,
        child: Terminal,
        screen: Screen,
        deadline: float,
        prompt: str | None,
        attach: bool = False,
    ) -> None:
        self.child = child
        self.attach = attach
        self.screen = screen
        self.deadline = deadline
        self.custom_prompt = prompt is not None
        self.watcher = PromptWatcher.for_prompt(prompt)

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _TimedOut
        return left

    def read_some(self, wait: float) -> str | None:
        """Whatever the program printed within `wait` seconds: "" when quiet, None at its end."""
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
        except (StepStopped, _TimedOut):
            self.screen.add(raw)  # the runner records the screen so far
            raise

    def run(self, lines: Sequence[str]) -> None:
        if self.attach:  # an attached shell shows nothing until a key is pressed
            self.child.send(ENTER)
        try:
            self.screen.add(self.first_prompt())
        except _Ended as ended:
            self.screen.add(ended.raw)  # it ended before any prompt, e.g. "No such container"
            return
        shown_prompt = self.screen.last_line()
        # An attached shell outlives the session: its PS1 stays its own.
        keep_ps1 = self.custom_prompt or self.attach
        expect_next = None if keep_ps1 else self.set_unique_prompt()
        for line in lines:
            self.child.sendline(line)
            if not self.type_and_wait(expect_next, shown_prompt):
                return
        # A shell sees `exit` typed, as a person would end it; any other program gets Ctrl-D.
        if self.attach:
            self.child.send(DETACH_KEYS)
        elif self.custom_prompt:
            self.child.send(EOF_KEY)
        else:
            self.child.sendline("exit")
        self.read_to_end()

    def set_unique_prompt(self) -> str | None:
        """Give the shell a prompt no output can contain; None when it is not a POSIX shell."""
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
