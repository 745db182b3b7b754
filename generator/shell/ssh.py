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

from generator.errors import UserError
from generator.shell.base import TIMEOUT_EXIT, Result, SessionLost, Shell, StepStopped
from generator.shell.markers import Markers
from generator.shell.ssh_connect import SSHError, connect
from generator.shell.ssh_target import SSHTarget

if TYPE_CHECKING:
    import paramiko

_GRACE = 2.0  # after a timeout, how long bash gets to print its marker once the step died
_CHUNK = 65536
_BASH = "bash --noprofile --norc"
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


class SSHShell(Shell):
    name = "ssh"

    def __init__(self, target: SSHTarget, strict_host_key: bool = False) -> None:
        self.target = target
        self.strict = strict_host_key
        self._client: paramiko.SSHClient | None = None
        self._chan: paramiko.Channel | None = None
        self._shell_pid = 0
        self._step = 0
        self._markers = Markers()
        self._seen = (bytearray(), bytearray())
        self.restarts = 0

    @property
    def sudo(self) -> str:
        """The prefix that makes a command run as root on this host."""
        return "" if self.target.user == "root" else "sudo -n "

    # ------------------------------------------------------------ session

    def start(self) -> None:
        if self._chan is not None and not self._chan.closed:
            return
        for note in self.target.notes:
            print(f"recipe: {note}", file=sys.stderr)
        if self._client is None:
            self._client = connect(self.target, strict=self.strict)
        self._open_shell()

    def _open_shell(self) -> None:
        chan = self._transport().open_session()
        chan.exec_command(f"{self.sudo}{_BASH}")
        self._chan, self._markers.carry = chan, (b"", b"")
        # The first exchange tells the shell's pid (for stopping steps) and shows whether sudo
        # let us in; C.UTF-8 where the host has it, for stable output from every tool.
        probe = self._exchange(
            self._wrap(
                "if locale -a 2>/dev/null | grep -qix 'c.utf-\\?8'; then export LC_ALL=C.UTF-8;"
                " else export LC_ALL=C; fi; echo $$"
            ),
            time.monotonic() + 30,
            what="starting the remote shell",
        )
        if probe is None:
            raise ConnectionLost(f"{self.target.name}: the remote shell did not start within 30 s")
        out, err, status = probe
        if status != 0 or not out.strip().isdigit():
            raise SSHError(f"{self.target.name}: the remote shell did not start: {err.strip()}")
        self._shell_pid = int(out.strip())

    def _transport(self) -> paramiko.Transport:
        transport = self._client.get_transport() if self._client else None
        if transport is None or not transport.is_active():
            raise ConnectionLost(f"{self.target.name}: the SSH connection is closed")
        return transport

    def close(self) -> None:
        chan, self._chan = self._chan, None
        client, self._client = self._client, None
        if chan is not None:
            chan.close()
        if client is not None:
            client.close()  # sshd ends the session's processes when the connection goes

    # ------------------------------------------------------------ running steps

    def _wrap(self, command: str) -> bytes:
        self._step += 1
        # The exported number marks what this step starts (see _KILL_STEP).
        return self._markers.wrap(command, prelude=f"export __RECIPE_STEP={self._step}\n")

    def run(self, command: str, timeout: float) -> Result:
        if self._chan is None or self._chan.closed:
            if self._chan is not None:
                self.restarts += 1
            self.start()
        started = time.monotonic()
        try:
            done = self._exchange(self._wrap(command), started + timeout, what=command)
        except _ShellEnded as ended:
            self.restarts += 1
            self._open_shell()
            out, err = ended.output
            note = f"recipe: {ended}; a new shell runs the next steps\n"
            return Result(command, out, err + note, 255, time.monotonic() - started)
        except SessionLost:
            raise
        except BaseException as stop:
            # Ctrl-C (or another exception) mid-step: stop the step and keep the shell, so the
            # teardown can still run in it, then let the caller handle the interruption.
            seen = self._seen
            late = ("", "")
            if self._chan is not None and not self._chan.closed:
                late, _ = self._abort_step(command)
            if isinstance(stop, StepStopped):  # the runner records the stopped step with this
                out, err = (self._markers.before(part).decode(errors="replace") for part in seen)
                # -1: bash's status for the killed step is not kept; the runner says which signal.
                stop.partial = Result(
                    command, out + late[0], err + late[1], -1, time.monotonic() - started
                )
            raise
        if done is None:  # timed out: stop the step and wait for bash to say it is back
            return self._after_timeout(command, started)
        out, err, status = done
        return Result(command, out, err, status, time.monotonic() - started)

    def _after_timeout(self, command: str, started: float) -> Result:
        note = f"recipe: timed out after {time.monotonic() - started:.1f} s; the step was killed\n"
        late, restarted = self._abort_step(command)
        if restarted:
            note += "recipe: the remote shell was stuck and has been restarted\n"
        out, err = late
        return Result(command, out, err + note, TIMEOUT_EXIT, time.monotonic() - started, True)

    def _abort_step(self, command: str) -> tuple[tuple[str, str], bool]:
        """Kill the running step and read its end marker, so the next step starts clean; replace
        the shell if bash itself is stuck. Returns the step's late output, and whether the shell
        was replaced."""
        self._stop_step()
        try:
            late = self._exchange(b"", time.monotonic() + _GRACE, what=command)
        except _ShellEnded:
            late = None
        if late is not None:
            return (late[0], late[1]), False
        self._kill_remote(f"kill -KILL {self._shell_pid}")  # a loop of builtins has no child
        self.restarts += 1
        self._open_shell()
        return ("", ""), True

    def _stop_step(self) -> None:
        script = f"bash -c {shlex.quote(_KILL_STEP)} kill-step {self._shell_pid} {self._step}"
        self._kill_remote(script)

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

    def _exchange(self, data: bytes, deadline: float, what: str) -> tuple[str, str, int] | None:
        """Send data, then read both streams up to their markers; None when the deadline passes."""
        chan = self._chan
        assert chan is not None
        marker = self._markers.token
        out, err = self._markers.take_carry()
        self._seen = (out, err)  # what a step printed before a signal stopped it
        try:
            if data:
                chan.sendall(data)
            while (out_end := out.find(marker)) < 0 or (err_end := err.find(marker)) < 0:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    self._markers.carry = (bytes(out), bytes(err))
                    return None
                select.select([chan], [], [], wait)
                while chan.recv_ready():
                    out += chan.recv(_CHUNK)
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(_CHUNK)
                if (
                    (chan.eof_received or chan.closed)
                    and not chan.recv_ready()
                    and not chan.recv_stderr_ready()
                ):
                    self._ended(chan, bytes(out), bytes(err))
        except OSError as exc:  # paramiko raises socket errors when the link breaks mid-send
            raise ConnectionLost(
                f"{self.target.name}: connection lost during {_short(what)}: {exc}"
            ) from None
        stdout, stderr, status = self._markers.split(out, err, out_end, err_end)
        return (
            stdout.decode("utf-8", errors="replace"),
            stderr.decode("utf-8", errors="replace"),
            status,
        )

    def _ended(self, chan: paramiko.Channel, out: bytes, err: bytes) -> None:
        """The channel reached EOF: a dropped connection, a refused sudo, or `exit` in a step."""
        if self._client is None or not (t := self._client.get_transport()) or not t.is_active():
            raise ConnectionLost(f"{self.target.name}: the SSH connection dropped")
        # sshd sends the exit status just after EOF; give it a moment to arrive.
        status = chan.recv_exit_status() if chan.status_event.wait(2) else -1
        text = err.decode(errors="replace")
        if self.sudo and "password is required" in text:
            raise SudoRefused(
                f"{self.target.name}: sudo wants a password for {self.target.user}, and steps "
                "need root; allow it without one (NOPASSWD) or connect as root"
            )
        self._chan = None
        raise _ShellEnded(f"the remote shell exited with status {status}", out, err)

    # ------------------------------------------------------------ interactive steps

    def interact(
        self, spawn: str, lines: Sequence[str], prompt: str | None, timeout: float
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
            return run_session(ChannelPty(chan), spawn, lines, prompt, timeout)
        except OSError as exc:
            raise ConnectionLost(
                f"{self.target.name}: connection lost during {_short(spawn)}: {exc}"
            ) from None
        finally:
            chan.close()  # run_session closed it already, unless the pty was never driven


class _ShellEnded(UserError):
    """bash on the remote host ended (a step ran `exit`); a new shell channel replaces it."""

    def __init__(self, message: str, out: bytes = b"", err: bytes = b"") -> None:
        super().__init__(message)
        self.output = (out.decode(errors="replace"), err.decode(errors="replace"))


def _short(command: str) -> str:
    first = command.strip().splitlines()[0] if command.strip() else command
    return repr(first[:60])
