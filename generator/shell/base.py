"""The one interface every transport implements: a long-lived shell that runs commands one by one.

A lab's steps share shell state (cwd, variables, functions) as they would in a terminal, so a
transport keeps ONE session open and runs each command in it; a new process per command is the
slow path this interface exists to avoid. Local bash (generator/shell/local.py) and an SSH shell
channel both fit it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

# Exit status reported for a step that was killed by its timeout (as timeout(1) does).
TIMEOUT_EXIT = 124


class SessionLost(Exception):
    """The session is gone for good and cannot be reopened, e.g. an SSH connection dropped.

    Raised by run()/interact(). The runner stops the lab there, keeps the transcript marked
    incomplete and reports the teardown on that host as impossible (other hosts still tear down).
    """


class StepStopped(BaseException):
    """Raised into a running step to stop it (the runner's signal interruption). The shell that
    stops the step stores what the step had printed by then in `partial`, so the runner can record
    the stopped step with its output instead of dropping it. BaseException, so `except Exception`
    in a transport cannot swallow it."""

    partial: Result | None = None


@dataclass(frozen=True)
class Result:
    """What one command did. Truthy when it exited 0 within its timeout, like Invoke's Result.

    For an interactive session, stdout holds what the person saw on the terminal (prompts, the
    echo of what was typed, the output) and stderr is empty: a pty merges the two.
    """

    command: str
    stdout: str
    stderr: str
    exit: int
    duration: float
    timed_out: bool = False

    def __bool__(self) -> bool:
        return self.exit == 0 and not self.timed_out


class Shell(ABC):
    """A persistent shell session on one host.

    Usage: `with LocalShell() as shell: shell.run("ip link", timeout=30)`. Implementations must:
    - run every command in the same session, so state carries over between calls;
    - keep stdout and stderr apart, and report the command's own exit status;
    - on timeout, stop the command (and what it started) but keep the session usable, and return
      a Result with timed_out=True and exit TIMEOUT_EXIT;
    - leave the session usable after a KeyboardInterrupt or other exception raised while a
      command runs: stop that command, then re-raise, so the teardown can still run in it.
    """

    name = "shell"

    @abstractmethod
    def start(self) -> None:
        """Open the session. Calling it on an open session does nothing."""

    @abstractmethod
    def run(self, command: str, timeout: float) -> Result:
        """Run one (possibly multi-line) shell command in the session and wait for it."""

    @abstractmethod
    def interact(
        self,
        spawn: str,
        lines: Sequence[str],
        prompt: str | None,
        timeout: float,
        attach: bool = False,
    ) -> Result:
        """Start `spawn` in a pseudo-terminal, type each line at its prompt, then leave it.

        `prompt` is a regex for the program's prompt; None means detect a shell prompt. The
        Result's stdout is the screen a person would have seen; exit is the program's status.
        attach: the shell runs already (`docker attach`, a tutorial's detached session): Enter
        shows its prompt, its PS1 is left alone, and the session ends with the detach keys,
        which leave it running.
        """

    @abstractmethod
    def close(self) -> None:
        """End the session and anything still running in it. Safe to call twice."""

    def on(self, role: str | None) -> Shell:
        """The shell for steps addressed to `role` (`#@ on ROLE`); one host runs every step."""
        return self

    def output_of(self, command: str) -> str:
        """stdout of a helper command (leftover snapshots take this callable)."""
        return self.run(command, timeout=60).stdout

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
