"""A remote host's shell over SSH: ONE paramiko connection and ONE shell channel for every step.

A channel per command costs sshd a new session (about 140 ms here); a persistent channel costs
well under a millisecond a step. The protocol is the local shell's (generator/shell/local.py):
each command goes to bash's stdin as `{ eval 'CMD'\n} </dev/null`, followed by an end marker on
stdout (with `$?`) and on stderr. The channel has no pty, so stdout and stderr arrive apart, as
SSH's two streams.

A step that outlives its timeout is stopped from a second, short-lived channel: its processes are
frozen and killed on the remote host (a channel without a pty cannot take a Ctrl-C). If bash itself
is stuck, it is killed and a fresh shell channel takes its place.

A remote user other than root gets a root shell through `sudo -n`: lab steps need root, and `-n`
makes a sudo that wants a password fail at once with a clear message instead of hanging.
"""

from __future__ import annotations

import select
import shlex
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from generator.shell.base import Result, SessionLost
from generator.shell.marker_shell import MarkerShell, Pumped, ShellEnded
from generator.shell.ssh_connect import SSHError, connect
from generator.shell.ssh_target import SSHTarget

if TYPE_CHECKING:
    import paramiko

_BASH = "bash --noprofile --norc"
# The first exchange tells the shell's pid (for stopping steps) and shows whether sudo let us in;
# C.UTF-8 where the host has it, for stable output from every tool.
_PROBE = (
    "if locale -a 2>/dev/null | grep -qix 'c.utf-\\?8'; then export LC_ALL=C.UTF-8;"
    " else export LC_ALL=C; fi; echo $$"
)
_ENDED_EXIT = 255  # what ssh(1) reports when the remote session ends without the step's status
# Run on the remote host after a timeout: freeze, then kill, the descendants of the shell $1 that
# belong to step $2: those carrying its __RECIPE_STEP mark, and their children. Background jobs of
# earlier steps carry an older mark and stay.
_KILL_STEP = r"""
walk() { local c y; for c in $(ps -o pid= --ppid "$1"); do
  y=$2; tr '\0' '\n' < "/proc/$c/environ" 2>/dev/null | grep -qx "__RECIPE_STEP=$3" && y=1
  [ "$y" = 1 ] && echo "$c"; walk "$c" "$y" "$3"; done; }
young=$(walk "$1" 0 "$2")
[ -n "$young" ] && kill -STOP $young 2>/dev/null; [ -n "$young" ] && kill -KILL $young 2>/dev/null
true
"""


class ConnectionLost(SSHError, SessionLost):
    """The SSH connection broke while the lab ran; nothing more can be run on that host."""


class SudoRefused(SSHError):
    pass


class SSHShell(MarkerShell):
    """The marker protocol (generator/shell/marker_shell.py) over an SSH channel to a remote
    bash."""

    name = "ssh"

    def __init__(self, target: SSHTarget, strict_host_key: bool = False) -> None:
        super().__init__()
        self.target = target
        self.strict = strict_host_key
        self._client: paramiko.SSHClient | None = None
        self._chan: paramiko.Channel | None = None
        self._shell_pid = 0
        self._step = 0

    @property
    def sudo(self) -> str:
        """The prefix that makes a command run as root on this host."""
        return "" if self.target.user == "root" else "sudo -n "

    # ------------------------------------------------------------ session

    def _spawn(self) -> None:
        if self._client is None:
            for note in self.target.notes:
                print(f"recipe: {note}", file=sys.stderr)
            self._client = connect(self.target, strict=self.strict)
        chan = self._transport().open_session()
        chan.exec_command(f"{self.sudo}{_BASH}")
        self._chan = chan
        what = "starting the remote shell"
        try:
            probe = self._exchange(self._wrap(_PROBE), time.monotonic() + 30, what)
        except ShellEnded as ended:
            raise SSHError(f"{self.target.name}: the remote shell did not start: {ended}") from None
        if probe is None:
            raise ConnectionLost(f"{self.target.name}: the remote shell did not start within 30 s")
        out, err, status = probe
        if status != 0 or not out.strip().isdigit():
            text = err.decode(errors="replace").strip()
            raise SSHError(f"{self.target.name}: the remote shell did not start: {text}")
        self._shell_pid = int(out.strip())

    def _is_running(self) -> bool:
        return self._chan is not None and not self._chan.closed

    def _transport(self) -> paramiko.Transport:
        transport = self._client.get_transport() if self._client else None
        if transport is None or not transport.is_active():
            raise ConnectionLost(f"{self.target.name}: the SSH connection is closed")
        return transport

    def _shut(self) -> None:
        chan, self._chan = self._chan, None
        client, self._client = self._client, None
        if chan is not None:
            chan.close()
        if client is not None:
            client.close()  # sshd ends the session's processes when the connection goes

    # ------------------------------------------------------------ the hooks of a step

    def _step_prelude(self) -> str:
        self._step += 1
        # The exported number marks what this step starts (see _KILL_STEP).
        return f"export __RECIPE_STEP={self._step}\n"

    def _pump(self, pending: bytes, wait: float) -> Pumped:
        chan = self._chan
        assert chan is not None
        out = err = b""
        try:
            if pending:
                chan.sendall(pending)  # paramiko's own thread keeps reading meanwhile
            # The channel's fileno stays readable while either stream holds data, so one read
            # of each here is enough: the next round takes the rest.
            select.select([chan], [], [], wait)
            if chan.recv_ready():
                out = chan.recv(self.chunk)
            if chan.recv_stderr_ready():
                err = chan.recv_stderr(self.chunk)
        except OSError as exc:  # paramiko raises socket errors when the link breaks mid-send
            raise ConnectionLost(
                f"{self.target.name}: connection lost during {_short(self._what)}: {exc}"
            ) from None
        ended = bool(chan.eof_received or chan.closed) and not (
            chan.recv_ready() or chan.recv_stderr_ready()
        )
        return Pumped(len(pending), out, err, ended)

    def _ended(self, out: bytes, err: bytes) -> ShellEnded:
        """The channel reached EOF: a dropped connection, a refused sudo, or `exit` in a step."""
        chan = self._chan
        if self._client is None or not (t := self._client.get_transport()) or not t.is_active():
            raise ConnectionLost(f"{self.target.name}: the SSH connection dropped")
        # sshd sends the exit status just after EOF; give it a moment to arrive.
        status = chan.recv_exit_status() if chan and chan.status_event.wait(2) else -1
        if self.sudo and "password is required" in err.decode(errors="replace"):
            raise SudoRefused(
                f"{self.target.name}: sudo wants a password for {self.target.user}, and steps "
                "need root; allow it without one (NOPASSWD) or connect as root"
            )
        return ShellEnded(f"the remote shell exited with status {status}", _ENDED_EXIT, out, err)

    def _kill_step(self) -> None:
        script = f"bash -c {shlex.quote(_KILL_STEP)} kill-step {self._shell_pid} {self._step}"
        self._kill_remote(script)

    def _kill_bash(self) -> None:
        chan, self._chan = self._chan, None
        if chan is None:
            return
        if not chan.eof_received and not chan.closed:
            self._kill_remote(f"kill -KILL {self._shell_pid}")  # a loop of builtins has no child
        chan.close()

    def _kill_remote(self, command: str) -> None:
        """Run a short command on its own channel: the shell channel is busy with the step."""
        try:
            chan = self._transport().open_session(timeout=10)
        except SessionLost:
            raise
        except Exception as exc:  # noqa: BLE001 - any paramiko failure here means the link is gone
            raise ConnectionLost(
                f"{self.target.name}: cannot reach the host to stop a step: {exc}"
            ) from None
        with chan:
            chan.settimeout(15)
            chan.exec_command(f"{self.sudo}{command}")
            chan.recv_exit_status()

    # ------------------------------------------------------------ interactive steps

    def interact(
        self,
        spawn: str,
        lines: Sequence[str],
        prompt: str | None,
        timeout: float,
        attach: bool = False,
    ) -> Result:
        # pexpect loads only when a lab has interactive steps.
        from generator.shell.pty import run_session
        from generator.shell.pty_ssh import ChannelPty

        cwd = self.run("pwd", timeout=10).stdout.strip()
        chan = self._transport().open_session(timeout=10)
        chan.get_pty(term="dumb", width=200, height=50)
        command = f"cd {shlex.quote(cwd)} 2>/dev/null; exec {spawn}" if cwd else f"exec {spawn}"
        chan.exec_command(f"{self.sudo}bash -c {shlex.quote(command)}")
        try:
            return run_session(ChannelPty(chan), spawn, lines, prompt, timeout, attach)
        except OSError as exc:
            raise ConnectionLost(
                f"{self.target.name}: connection lost during {_short(spawn)}: {exc}"
            ) from None
        finally:
            chan.close()  # run_session closed it already, unless the pty was never driven


def _short(command: str) -> str:
    first = command.strip().splitlines()[0] if command.strip() else command
    return repr(first[:60])
