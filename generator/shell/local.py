"""This machine's shell: ONE bash process that runs every step, so state carries over between steps.

Each command is sent as `{ eval 'CMD'\n} </dev/null` followed by an end marker: a random token
and `$?` on stdout, the token alone on stderr. We read both pipes until both markers arrive.
- `eval` makes a syntax error a failed step (status 2) instead of the end of the shell.
- `</dev/null` keeps a step from eating the commands that follow it on bash's stdin.
- The token is printed from two halves, so it never appears in bash's input, not even when a
  step turns on `set -v` or `set -x`.
The protocol, timeouts and restarts are generator/shell/marker_shell.py's; this file only moves
bytes through the pipes and finds a step's processes by their start time (generator/shell/procs.py).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
from collections.abc import Sequence

from generator.shell.base import Result
from generator.shell.marker_shell import GRACE, MarkerShell, Pumped, ShellEnded
from generator.shell.procs import Mark, descendants, kill_all


class LocalShell(MarkerShell):
    """The marker protocol (generator/shell/marker_shell.py) over pipes to a local bash."""

    name = "local"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._since = Mark.now()  # when the running step began: what it started is younger

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _spawn(self) -> None:
        self._shut()  # a bash that died leaves pipes to close
        env = dict(os.environ if self._env is None else self._env)
        env.setdefault("LC_ALL", "C.UTF-8")  # stable, diffable output from every tool
        self._proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            # Its own session: a Ctrl-C at the terminal reaches us, not bash and the step; we
            # decide what to stop, and the shell survives to run the teardown.
            start_new_session=True,
        )
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            assert stream is not None
            os.set_blocking(stream.fileno(), False)

    def _is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _step_prelude(self) -> str:
        self._since = Mark.now()
        return ""

    def _pump(self, pending: bytes, wait: float) -> Pumped:
        proc = self._proc
        assert proc is not None and proc.stdin and proc.stdout and proc.stderr
        fds = (proc.stdin.fileno(), proc.stdout.fileno(), proc.stderr.fileno())
        # Writing and reading in one poll: with `set -v`, bash echoes a long step to stderr as it
        # reads it, and a full stderr pipe would block it while we block writing the rest.
        poller = select.poll()
        poller.register(fds[1], select.POLLIN)
        poller.register(fds[2], select.POLLIN)
        if pending:
            poller.register(fds[0], select.POLLOUT)
        sent, read, ended = 0, {fds[1]: b"", fds[2]: b""}, False
        for fd, _ in poller.poll(wait * 1000):
            try:
                if fd == fds[0]:
                    sent = os.write(fd, pending)
                elif chunk := os.read(fd, self.chunk):
                    read[fd] = chunk
                else:
                    ended = True
            except BrokenPipeError:  # bash is gone: its stdout says so once drained
                sent = len(pending)
        return Pumped(sent, read[fds[1]], read[fds[2]], ended)

    def _ended(self, out: bytes, err: bytes) -> ShellEnded:
        assert self._proc is not None
        try:
            status = self._proc.wait(GRACE)
        except subprocess.TimeoutExpired:  # it closed its output but lives on: it gets killed
            status = -1
        return ShellEnded(f"the shell exited with status {status}", status, out, err)

    def _kill_step(self) -> None:
        if self._proc is not None:
            kill_all(descendants(self._proc.pid, since=self._since))

    def _kill_bash(self) -> None:
        self._shut()

    def interact(
        self,
        spawn: str,
        lines: Sequence[str],
        prompt: str | None,
        timeout: float,
        attach: bool = False,
    ) -> Result:
        from generator.shell.pty_local import drive  # pexpect loads only when a lab needs it

        cwd = self.run("pwd", timeout=10).stdout.strip() or None
        return drive(spawn, lines, prompt, timeout, cwd=cwd, env=self._env, attach=attach)

    def _shut(self) -> None:
        """End bash and everything in its session, including background jobs of the steps."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        kill_all(descendants(proc.pid))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                # A pipe whose reader is gone: nothing left to flush.
                with contextlib.suppress(OSError):
                    stream.close()
