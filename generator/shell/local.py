"""This machine's shell: ONE bash process that runs every step, so state carries over between steps.

Each command is sent as `{ eval 'CMD'\n} </dev/null` followed by an end marker: a random token
and `$?` on stdout, the token alone on stderr. We read both pipes until both markers arrive.
- `eval` makes a syntax error a failed step (status 2) instead of the end of the shell.
- `</dev/null` keeps a step from eating the commands that follow it on bash's stdin.
- The token is printed from two halves, so it never appears in bash's input, not even when a
  step turns on `set -v` or `set -x`.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence

from generator.shell.base import TIMEOUT_EXIT, Result, Shell, StepStopped
from generator.shell.markers import Markers
from generator.shell.procs import Mark, descendants, kill_all

# After a timeout or an interrupt, how long bash gets to finish the step once its processes died.
_GRACE = 2.0
_CHUNK = 65536


class ShellDied(Exception):
    """bash ended, or stayed stuck in a builtin after a timeout; the session is restarted."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class LocalShell(Shell):
    name = "local"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._markers = Markers()
        # The buffers of the exchange in progress: what a step printed before a signal stopped it.
        self._seen = (bytearray(), bytearray())
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        env = dict(os.environ if self._env is None else self._env)
        env.setdefault("LC_ALL", "C.UTF-8")  # stable, diffable output from every tool
        self._markers.carry = (b"", b"")
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

    def run(self, command: str, timeout: float) -> Result:
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self.close()
                self.restarts += 1
            self.start()
        wrapped = self._markers.wrap(command)
        started = time.monotonic()
        since = Mark.now()
        try:
            out, err, status, timed_out = self._exchange(wrapped, since, started + timeout)
        except ShellDied as died:
            self.close()
            self.restarts += 1
            timed_out = died.status == TIMEOUT_EXIT
            duration = time.monotonic() - started
            return Result(command, "", f"recipe: {died}\n", died.status, duration, timed_out)
        except BaseException as stop:
            # KeyboardInterrupt or a signal handler's exception mid-step: stop the step so the
            # shell can run the teardown, then let the caller handle the interruption.
            seen = self._seen
            late = self._stop_step(since)
            if isinstance(stop, StepStopped):  # the runner records the stopped step with this
                stop.partial = self._partial(command, seen, late, time.monotonic() - started)
            raise
        return Result(
            command,
            out.decode("utf-8", errors="replace"),
            err.decode("utf-8", errors="replace"),
            status,
            time.monotonic() - started,
            timed_out,
        )

    def _exchange(
        self, data: bytes, since: Mark, deadline: float
    ) -> tuple[bytes, bytes, int, bool]:
        """Feed the command, collect both streams up to their markers; kill the step on timeout."""
        proc = self._proc
        assert proc is not None and proc.stdin and proc.stdout and proc.stderr
        marker = self._markers.token
        out, err = self._markers.take_carry()
        self._seen = (out, err)
        out_end, err_end = out.find(marker), err.find(marker)
        timed_out = False
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ, out)
            sel.register(proc.stderr, selectors.EVENT_READ, err)
            if data:
                sel.register(proc.stdin, selectors.EVENT_WRITE, None)
            while out_end < 0 or err_end < 0:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    if timed_out:
                        raise ShellDied(
                            "the step kept bash itself busy past its timeout; the shell was"
                            " restarted and its state (directory, variables) is lost",
                            TIMEOUT_EXIT,
                        )
                    timed_out = True
                    kill_all(descendants(proc.pid, since=since))
                    deadline = time.monotonic() + _GRACE
                    continue
                for key, _ in sel.select(wait):
                    if key.data is None:
                        data = data[os.write(key.fd, data) :]
                        if not data:
                            sel.unregister(proc.stdin)
                        continue
                    chunk = os.read(key.fd, _CHUNK)
                    if not chunk:
                        status = proc.wait()
                        raise ShellDied(f"the shell exited with status {status}; restarted", status)
                    key.data.extend(chunk)
                if out_end < 0:
                    out_end = out.find(marker)
                if err_end < 0:
                    err_end = err.find(marker)
        stdout, stderr, status = self._markers.split(out, err, out_end, err_end)
        return stdout, stderr, TIMEOUT_EXIT if timed_out else status, timed_out

    def _stop_step(self, since: Mark) -> tuple[bytes, bytes, int] | None:
        """After an interruption: kill the running step and drain its marker, or restart bash.
        Returns what the step printed after the interruption and bash's status for it."""
        if self._proc is None:
            return None
        kill_all(descendants(self._proc.pid, since=since))
        try:
            out, err, status, _ = self._exchange(b"", since, time.monotonic() + _GRACE)
        except (ShellDied, OSError, ValueError):
            self.close()
            return None
        return out, err, status

    def _partial(
        self,
        command: str,
        seen: tuple[bytearray, bytearray],
        late: tuple[bytes, bytes, int] | None,
        duration: float,
    ) -> Result:
        """The stopped step's output: what it printed before the signal, then while it died."""
        # A marker already read means the step had ended; _stop_step then drained nothing of it.
        out, err = (self._markers.before(part) for part in seen)
        status = -1
        if late is not None:
            out, err, status = out + late[0], err + late[1], late[2]
        text = (out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace"))
        return Result(command, text[0], text[1], status, duration)

    def interact(
        self, spawn: str, lines: Sequence[str], prompt: str | None, timeout: float
    ) -> Result:
        from generator.shell.pty_local import drive  # pexpect loads only when a lab needs it

        cwd = self.run("pwd", timeout=10).stdout.strip() or None
        return drive(spawn, lines, prompt, timeout, cwd=cwd, env=self._env)

    def close(self) -> None:
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
                try:
                    stream.close()
                except OSError:
                    pass  # a pipe whose reader is gone: nothing left to flush
