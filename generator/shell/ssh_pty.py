"""Interactive steps on a remote host: pexpect's matching, driven over a paramiko pty channel.

pexpect's expect machinery only needs `read_nonblocking` and `send`; ChannelSpawn supplies them
for a channel, so prompts are matched exactly as they are for a local pty.
"""

from __future__ import annotations

import codecs
import io
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pexpect
from pexpect.spawnbase import SpawnBase

from generator.shell.base import TIMEOUT_EXIT, Result, StepStopped

if TYPE_CHECKING:
    import paramiko

# A shell or REPL prompt at the end of what arrived: `/ # `, `root@host:~# `, `$ `, `> `, maybe
# followed by the terminal controls a line editor sends after drawing it.
DEFAULT_PROMPT = r"[#$>%] ?(?:\x1b\[[0-9;?]*[A-Za-z]|\r)*$"
_CURSOR_QUERY = b"\x1b[6n"  # "where is the cursor?": busybox ash asks, and waits for the answer
_SETTLE = 0.05  # a prompt counts once this long passes without more output
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


if TYPE_CHECKING:
    _SpawnBase = SpawnBase[str]  # generic only in the type stubs
else:
    _SpawnBase = SpawnBase


class ChannelSpawn(_SpawnBase):
    """A pexpect spawn whose child is the far end of an SSH channel with a pty."""

    def __init__(self, chan: paramiko.Channel, timeout: float) -> None:
        super().__init__(timeout=timeout, encoding="utf-8", codec_errors="replace")
        self.chan = chan
        self.screen = io.StringIO()  # everything the person would have seen
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read_nonblocking(self, size: int = 1, timeout: float | None = -1) -> Any:
        wait = self.timeout if timeout == -1 else timeout
        self.chan.settimeout(None if wait is None else max(wait, 0.0))
        try:
            data = self.chan.recv(max(size, 1024))
        except TimeoutError:
            raise pexpect.TIMEOUT("no output from the remote program") from None
        if not data:
            self.flag_eof = True
            raise pexpect.EOF("the remote program ended")
        if _CURSOR_QUERY in data:  # answer as a terminal would, or the program eats our typing
            self.chan.sendall(b"\x1b[1;1R")
        text: str = self._utf8.decode(data, final=False)
        self.screen.write(text)
        return text

    def send(self, s: str | bytes) -> int:
        data = s.encode() if isinstance(s, str) else s
        self.chan.sendall(data)
        return len(data)

    def sendline(self, s: str = "") -> int:
        return self.send(s + "\r")


def drive_channel(
    chan: paramiko.Channel, spawn: str, lines: Sequence[str], prompt: str | None, timeout: float
) -> Result:
    """Type each line at the prompt, then end the program with Ctrl-D; return the screen."""
    child = ChannelSpawn(chan, timeout)
    pattern = prompt or DEFAULT_PROMPT
    started = time.monotonic()
    timed_out = False
    try:
        for line in lines:
            _await_prompt(child, pattern, started, timeout)
            child.sendline(line)
        _await_prompt(child, pattern, started, timeout)
        child.send("\x04")  # Ctrl-D: end of input for shells and most line-reading programs
        child.expect(pexpect.EOF, timeout=_left(started, timeout))
    except pexpect.TIMEOUT:
        timed_out = True
        child.send("\x03")  # Ctrl-C through the pty, as a person would
    except pexpect.EOF:
        pass  # the program ended by itself, e.g. after `exit` among the lines
    except StepStopped as stop:  # a signal: the runner records what the screen showed so far
        screen = _screen(child.screen.getvalue())
        stop.partial = Result(spawn, screen, "", -1, time.monotonic() - started)
        raise
    if timed_out:
        status = TIMEOUT_EXIT
    else:
        chan.settimeout(5)
        status = chan.recv_exit_status() if chan.status_event.wait(5) else 255
    return Result(
        spawn, _screen(child.screen.getvalue()), "", status, time.monotonic() - started, timed_out
    )


def _screen(raw: str) -> str:
    """What the terminal showed: no control sequences, and a carriage return overwrites its line
    (a line editor redraws the prompt that way)."""
    lines = _ANSI.sub("", raw).replace("\r\n", "\n").split("\n")
    return "\n".join(
        next((part for part in reversed(line.split("\r")) if part), "") for line in lines
    )


def _await_prompt(child: ChannelSpawn, pattern: str, started: float, timeout: float) -> None:
    """Wait for the prompt and for the program to go quiet, as a person waits before typing."""
    while True:
        child.expect(pattern, timeout=_left(started, timeout))
        try:
            more = child.read_nonblocking(4096, timeout=_SETTLE)
        except pexpect.TIMEOUT:
            return
        child.buffer = more + child.buffer  # the program was still drawing: wait again


def _left(started: float, timeout: float) -> float:
    return max(0.1, timeout - (time.monotonic() - started))
