"""The step runner both persistent shells share, as a template method (Invoke's Runner shape).

MarkerShell runs a step in ONE long-lived bash: it sends the step wrapped in end markers
(generator/shell/markers.py), reads stdout and stderr up to their markers, stops a step that
outlives its timeout or is interrupted, replaces a bash that ended or got stuck, and builds the
Result. A transport (LocalShell: pipes to a local bash; SSHShell: an SSH channel to a remote one)
fills in only the hooks: open and close bash, move bytes, kill a step, kill bash, and say what
the end of bash's output means.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from typing import NamedTuple

from generator.errors import UserError
from generator.shell.base import TIMEOUT_EXIT, Result, SessionLost, Shell, StepStopped
from generator.shell.markers import Markers

# After a timeout or an interrupt, how long bash gets to print its markers once the step died.
GRACE = 2.0
CHUNK = 65536  # the most one read takes from a stream

Exchanged = tuple[bytes, bytes, int]  # a step's stdout, stderr and exit status


class Pumped(NamedTuple):
    """What one round of I/O did: bytes written to bash's stdin, stdout and stderr read, and
    whether bash's output has ended (all of what came before the end is in out and err)."""

    sent: int
    out: bytes
    err: bytes
    ended: bool = False


class ShellEnded(UserError):
    """bash's output ended in the middle of an exchange (a step ran `exit`, or bash died).
    `exit` is the status the step reports; out and err are what it printed before."""

    def __init__(self, message: str, exit: int, out: bytes = b"", err: bytes = b"") -> None:
        super().__init__(message)
        self.exit = exit
        self.output = (out, err)


class MarkerShell(Shell):
    """A Shell whose steps run in one bash through the marker protocol; see the module doc."""

    chunk = CHUNK  # the most one read takes; tests shrink it to split markers across reads

    def __init__(self) -> None:
        self._markers = Markers()
        # The buffers of the exchange in progress: what a step printed before a signal stopped it.
        self._seen = (bytearray(), bytearray())
        self._what = ""  # the exchange in progress, for error messages
        self._spawned = False  # a bash was started since the last close(): a new one is a restart
        self.restarts = 0

    # ------------------------------------------------------------ hooks for the transports

    @abstractmethod
    def _spawn(self) -> None:
        """Start bash (connecting first if need be); the markers start afresh."""

    @abstractmethod
    def _shut(self) -> None:
        """End bash, everything it started, and the transport's resources. Safe to call twice."""

    @abstractmethod
    def _is_running(self) -> bool:
        """Whether bash is there to take a step."""

    @abstractmethod
    def _pump(self, pending: bytes, wait: float) -> Pumped:
        """Write what can be written of `pending` to bash's stdin, and read what arrives on its
        stdout and stderr, waiting at most `wait` s for anything to happen."""

    @abstractmethod
    def _ended(self, out: bytes, err: bytes) -> ShellEnded:
        """The error for bash's output ending; or raise what it means instead (a lost link)."""

    @abstractmethod
    def _kill_step(self) -> None:
        """Kill what the running step started, but neither bash nor earlier steps' jobs."""

    @abstractmethod
    def _kill_bash(self) -> None:
        """bash is stuck (a loop of builtins has no child to kill) or gone: end it."""

    def _step_prelude(self) -> str:
        """A line bash runs before each step, outside it (e.g. a mark for _kill_step)."""
        return ""

    # ------------------------------------------------------------ the session

    def start(self) -> None:
        if self._is_running():
            return
        self._markers.carry = (b"", b"")
        self._spawn()
        self._spawned = True

    def close(self) -> None:
        """End the session and anything still running in it, background jobs included."""
        self._spawned = False
        self._shut()

    def _restart(self) -> None:
        self.restarts += 1
        self._kill_bash()
        self.start()

    # ------------------------------------------------------------ running a step

    def run(self, command: str, timeout: float) -> Result:
        if not self._is_running():
            if self._spawned:  # bash died since the last step
                self._restart()
            else:
                self.start()
        started = time.monotonic()
        try:
            done = self._exchange(self._wrap(command), started + timeout, command)
        except ShellEnded as ended:
            return self._after_end(command, ended, started)
        except SessionLost:
            raise
        except BaseException as stop:
            # Ctrl-C or a signal handler's exception mid-step: stop the step and keep the shell,
            # so the teardown can still run in it, then let the caller handle the interruption.
            self._after_stop(command, stop, started)
            raise
        if done is None:
            return self._after_timeout(command, started)
        out, err, status = done
        return Result(command, _text(out), _text(err), status, time.monotonic() - started)

    def _wrap(self, command: str) -> bytes:
        return self._markers.wrap(command, prelude=self._step_prelude())

    def _exchange(self, data: bytes, deadline: float, what: str) -> Exchanged | None:
        """Send data, then read both streams up to their markers; None when the deadline passes
        (what was read is kept, so the next exchange goes on from it)."""
        out, err = self._markers.take_carry()
        self._seen, self._what = (out, err), what
        out_end, err_end = self._markers.find(out), self._markers.find(err)
        while out_end < 0 or err_end < 0:
            wait = deadline - time.monotonic()
            if wait <= 0:
                self._markers.carry = (bytes(out), bytes(err))
                return None
            pumped = self._pump(data, wait)
            data = data[pumped.sent :]
            out_end = self._extend(out, pumped.out, out_end)
            err_end = self._extend(err, pumped.err, err_end)
            if pumped.ended and (out_end < 0 or err_end < 0):
                raise self._ended(bytes(out), bytes(err))
        return self._markers.split(out, err, out_end, err_end)

    def _extend(self, seen: bytearray, more: bytes, found: int) -> int:
        """Append `more`; return where the marker is. A marker once found stays: what follows
        it belongs to the next step. Otherwise look where it can newly be, which takes in a
        marker split across reads."""
        start = self._markers.resume(seen)
        seen.extend(more)
        return found if found >= 0 else self._markers.find(seen, start)

    def _after_timeout(self, command: str, started: float) -> Result:
        note = f"recipe: timed out after {time.monotonic() - started:.1f} s; the step was killed\n"
        (out, err, _), replaced = self._abort_step()
        if replaced:
            note += (
                "recipe: the step kept bash itself busy past its timeout; the shell was restarted"
                " and its state (directory, variables) is lost\n"
            )
        duration = time.monotonic() - started
        return Result(command, _text(out), _text(err) + note, TIMEOUT_EXIT, duration, True)

    def _abort_step(self) -> tuple[Exchanged, bool]:
        """Kill the running step and read its end markers, so the next step starts clean; replace
        bash if it is stuck or ends. Returns what the step printed from where the last exchange
        stopped (status -1 when bash was replaced), and whether bash was replaced."""
        self._kill_step()
        try:
            late = self._exchange(b"", time.monotonic() + GRACE, self._what)
        except ShellEnded as ended:
            out, err = ended.output
        else:
            if late is not None:
                return late, False
            out, err = self._markers.carry
        out, err = self._markers.before(out), self._markers.before(err)
        self._restart()
        return (out, err, -1), True

    def _after_stop(self, command: str, stop: BaseException, started: float) -> None:
        """After an interruption: stop the step, and give a StepStopped the step's output."""
        seen = self._seen
        late: Exchanged | None = None
        if self._is_running():
            late, _ = self._abort_step()
        if not isinstance(stop, StepStopped):
            return
        # What the step printed before the signal, then while it died; a marker already read
        # means the step had ended, and the abort then read nothing of it.
        out, err = (self._markers.before(part) for part in seen)
        if late is not None:
            out, err = out + late[0], err + late[1]
        # -1: bash's status now is that of our own SIGKILL (137), not news; the runner reports
        # the shell convention for the signal that stopped the step (130 for SIGINT).
        duration = time.monotonic() - started
        stop.partial = Result(command, _text(out), _text(err), -1, duration)

    def _after_end(self, command: str, ended: ShellEnded, started: float) -> Result:
        """bash ended during the step (`exit` in it): report that, and start a fresh bash."""
        self._restart()
        out, err = ended.output
        note = f"recipe: {ended}; a new shell runs the next steps\n"
        duration = time.monotonic() - started
        return Result(command, _text(out), _text(err) + note, ended.exit, duration)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
