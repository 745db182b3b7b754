"""The script model: steps with their expectations, as the runner runs them. Read from a script
file by script.py, from a Markdown tutorial by tutorial_script.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.lab.reach_directive import ReachSpec
from generator.transcript.expectation import Expectation

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Interactive:
    """A session a person would type into: spawn a program in a pty, type each line at its
    prompt."""

    spawn: str
    lines: tuple[str, ...]
    prompt: str | None = None  # a regex; None means: detect the shell prompt
    # A tutorial's `docker attach` (or a session it detaches from): Enter shows the running
    # shell's prompt, and the session ends with the detach keys (CTRL-p CTRL-q).
    attach: bool = False


@dataclass(frozen=True)
class Step:
    index: int
    command: str
    explanation: str = ""
    expect: Expectation = field(default_factory=Expectation)
    timeout: float | None = None
    interactive: Interactive | None = None
    phase: str = "main"  # "main" or "teardown"
    host: str | None = None  # role of a multi-host recipe, from `#@ on ROLE`
    line: int = 0
    snapshot: str | None = None  # `#@ snapshot [LABEL]`: observe the hosts after this step
    reach: ReachSpec | None = None  # `#@ reach ...`: probe every pair after this step
    exits: int | None = None  # a plain script's `exit N`: the main phase ends, with status N
    skip: str | None = None  # a tutorial's step recipe does not run, and why (verdict skipped)


@dataclass(frozen=True)
class Script:
    steps: tuple[Step, ...]
    teardown: tuple[Step, ...]
    recipe: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    hosts: tuple[str, ...] = ()
    sha256: str = ""
    source: str = "<script>"
    # Per host role ("" for the one host): shell lines that exit 2 when a name the lab creates
    # there is taken already (`#@ guard` / `#@ guard on ROLE` ... `#@ end-guard`).
    guards: tuple[tuple[str, str], ...] = ()
    # A plain script (no `#@ steps`, no `#@ recipe`) runs as bash would: without `set -e` a
    # step that fails is recorded and the run goes on; with it, the run stops there.
    plain: bool = False
    errexit: bool = False
    # A Markdown tutorial: steps are judged against the page's output and the run goes on, as
    # a reader would; `--image FROM=TO` pairs, applied to the commands and to the comparison.
    tutorial: bool = False
    images: tuple[tuple[str, str], ...] = ()

    @property
    def all_steps(self) -> tuple[Step, ...]:
        return self.steps + self.teardown
