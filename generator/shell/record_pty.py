"""The terminal of `recipe record`: an interactive program in a pty, here (pexpect) or on a remote
host (a paramiko channel with a pty), as a raw byte stream with a file descriptor, so one select()
loop can relay it to and from the person's own terminal (generator/lab/record_relay.py).

Unlike generator/shell/pty.py, which types lines a script gives, nothing here waits for prompts:
the person types, and every byte goes through as it comes.
"""

from __future__ import annotations

import errno
import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pexpect

from generator.shell.ssh import SSHShell
from generator.shell.ssh_target import resolve

if TYPE_CHECKING:
    import paramiko

_CHUNK = 65536
_NO_STATUS = 255  # what ssh(1) reports when the remote end gave no status


class RawPty(Protocol):
    def fileno(self) -> int:
        """Readable when output (or the end of it) is there."""

    def read_ready(self) -> bytes:
        """What the program printed and is there now (b"" if nothing); EOFError at its end."""

    def write(self, data: bytes) -> None:
        """Type data at its terminal, all of it."""

    def resize(self, rows: int, cols: int) -> None:
        """The person's terminal changed size: tell the program's terminal."""

    def close(self) -> int:
        """Hang up if it still runs, and return its exit status. Idempotent."""


class LocalRawPty:
    """argv in a new pty of this machine."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], rows: int, cols: int) -> None:
        self.child: pexpect.spawn[bytes] = pexpect.spawn(
            argv[0], list(argv[1:]), env=env, dimensions=(rows, cols)
        )
        self._status: int | None = None

    def fileno(self) -> int:
        return int(self.child.child_fd)

    def read_ready(self) -> bytes:
        try:
            data = os.read(self.child.child_fd, _CHUNK)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:  # Linux: the pty's other side is closed, bash has ended
                raise EOFError from None
            raise
        if not data:
            raise EOFError
        return data

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.child.child_fd, view) :]

    def resize(self, rows: int, cols: int) -> None:
        self.child.setwinsize(rows, cols)

    def close(self) -> int:
        if self._status is None:
            self.child.close(force=True)  # a live bash gets SIGHUP, as from a closed terminal
            if self.child.exitstatus is not None:
                self._status = int(self.child.exitstatus)
            else:
                self._status = 128 + int(self.child.signalstatus or 0)
        return self._status


class ChannelRawPty:
    """A program on an SSH channel that has a pty."""

    def __init__(self, chan: paramiko.Channel) -> None:
        self.chan = chan

    def fileno(self) -> int:
        return int(self.chan.fileno())

    def read_ready(self) -> bytes:
        if self.chan.recv_ready():
            data = bytes(self.chan.recv(_CHUNK))
            if data:
                return data
            raise EOFError
        if self.chan.eof_received or self.chan.closed:
            raise EOFError
        return b""

    def write(self, data: bytes) -> None:
        self.chan.sendall(data)

    def resize(self, rows: int, cols: int) -> None:
        self.chan.resize_pty(width=cols, height=rows)

    def close(self) -> int:
        status = self.chan.recv_exit_status() if self.chan.status_event.wait(2) else _NO_STATUS
        self.chan.close()  # sshd closes the pty and the remote bash gets SIGHUP
        return status


class RecordSSHShell(SSHShell):
    """The SSH shell of `recipe run` (helper commands: snapshots, files, the teardown), plus a
    second channel on the same connection with a pty for the person's session."""

    def open_pty(self, command: str, term: str, rows: int, cols: int) -> ChannelRawPty:
        self.start()
        chan = self._transport().open_session(timeout=10)
        chan.get_pty(term=term, width=cols, height=rows)
        chan.exec_command(f"{self.sudo}bash -c {shlex.quote('exec ' + command)}")
        return ChannelRawPty(chan)


def ssh_shell(host: str, identity: Path | None, strict: bool) -> RecordSSHShell:
    """The shell for `--host HOST`, reached as `recipe run` reaches it (known hosts, no blind
    trust; see generator/shell/ssh_target.py)."""
    return RecordSSHShell(resolve(host, str(identity) if identity else None), strict)
