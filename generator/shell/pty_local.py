"""The local transport for the pty driver (generator/shell/pty.py): a program in a real pty here.

pexpect.spawn forks it under `/bin/sh -c`, so the step may be any shell command line
(`docker exec -it c sh`, `ip netns exec ns bash`), and supplies the byte stream; the driver does
the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import pexpect

from generator.shell.base import Result
from generator.shell.pty import run_session


class LocalPty:
    """A PtyStream: `/bin/sh -c SPAWN` in a pty of this machine, 200 columns wide."""

    def __init__(
        self, spawn: str, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.child: pexpect.spawn[bytes] = pexpect.spawn(
            "/bin/sh", ["-c", spawn], dimensions=(24, 200), cwd=cwd, env=env
        )
        self.child.delaybeforesend = None  # pexpect would sleep 50 ms before each send

    def read(self, size: int, timeout: float | None) -> bytes:
        try:
            return self.child.read_nonblocking(size, timeout)
        except pexpect.TIMEOUT:
            return b""
        except pexpect.EOF:
            raise EOFError from None

    def write(self, data: bytes) -> None:
        while data:
            data = data[self.child.send(data) :]

    def exit_status(self) -> int:
        self.child.close()  # reaps it; the shell convention 128+N for a death by signal N
        if self.child.exitstatus is not None:
            return int(self.child.exitstatus)
        return 128 + int(self.child.signalstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


def drive(
    spawn: str,
    lines: Sequence[str],
    prompt: str | None,
    timeout: float,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    attach: bool = False,
) -> Result:
    """Run `spawn` in a local pty and type `lines` at its prompt (see generator/shell/pty.py)."""
    return run_session(LocalPty(spawn, cwd, env), spawn, lines, prompt, timeout, attach)
