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

from generator.shell.base import TIMEOUT_EXIT, Result

if TYPE_CHECKING:
    import paramiko

# A shell or REPL prompt at the end of what arrived: `/ # `, `root@host:~# `, `$ `, `> `.
DEFAULT_PROMPT = r"[#$>%] ?$"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class ChannelSpawn(SpawnBase[str]):
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
            child.expect(pattern, timeout=_left(started, timeout))
            child.sendline(line)
        child.expect(pattern, timeout=_left(started, timeout))
        child.send("\x04")  # Ctrl-D: end of input for shells and most line-reading programs
        child.expect(pexpect.EOF, timeout=_left(started, timeout))
    except pexpect.TIMEOUT:
        timed_out = True
        child.send("\x03")  # Ctrl-C through the pty, as a person would
    except pexpect.EOF:
        pass  # the program ended by itself, e.g. after `exit` among the lines
    if timed_out:
        status = TIMEOUT_EXIT
    else:
        chan.settimeout(5)
        status = chan.recv_exit_status() if chan.status_event.wait(5) else 255
    screen = _ANSI.sub("", child.screen.getvalue()).replace("\r\n", "\n").replace("\r", "")
    return Result(spawn, screen, "", status, time.monotonic() - started, timed_out)


def _left(started: float, timeout: float) -> float:
    return max(0.1, timeout - (time.monotonic() - started))
