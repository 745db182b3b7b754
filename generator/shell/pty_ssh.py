"""The SSH transport for the pty driver (generator/shell/pty.py): a remote program's pty, read
from a paramiko channel. The caller (SSHShell.interact) opens the channel, asks for the pty and
starts the program; this only turns the channel into the byte stream the driver reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paramiko

# sshd sends the exit status just after the output ends; how long to wait for it.
_STATUS_WAIT = 5.0
_NO_STATUS = 255  # what ssh(1) reports when the remote end gave no status


class ChannelPty:
    """A PtyStream over an SSH channel that has a pty and runs the program."""

    def __init__(self, chan: paramiko.Channel) -> None:
        self.chan = chan

    def read(self, size: int, timeout: float | None) -> bytes:
        self.chan.settimeout(timeout)
        try:
            data = self.chan.recv(size)
        except TimeoutError:
            return b""
        if not data:
            raise EOFError
        return data

    def write(self, data: bytes) -> None:
        self.chan.sendall(data)

    def exit_status(self) -> int:
        if not self.chan.status_event.wait(_STATUS_WAIT):
            return _NO_STATUS
        return self.chan.recv_exit_status()

    def close(self) -> None:
        # sshd then closes the pty, and the kernel hangs up the program's session (SIGHUP).
        self.chan.close()
