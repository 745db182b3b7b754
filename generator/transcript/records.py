"""The transcript format's records: the header, one record per step, the result, and the names and
limits the writer and the reader share. docs/transcript-format.md describes the format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.errors import UserError
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts

if TYPE_CHECKING:  # only a run or a reader of snapshots loads the state model
    from generator.transcript.matrix import Matrix
    from generator.transcript.state import Snapshot

MAGIC = "recipe-transcript"
# 2 adds the snapshot sections, 3 the reach sections, 4 a tutorial's page outputs (`shown` in
# `expect:`) and the `skipped` verdict; older files still read.
VERSION = 4
VERSIONS = (1, 2, 3, 4)
PARTIAL_SUFFIX = ".partial"
VERDICTS = ("ok", "expected-failure", "FAIL", "skipped")  # skipped: a tutorial's, not run
# The first problem of a step that a signal stopped (verdict FAIL): version 1 has no verdict of
# its own for it, and a new one would make older version-1 readers refuse the file.
INTERRUPTED_PROBLEM = "interrupted by "
STATUSES = ("passed", "failed", "interrupted", "incomplete")
BLOCK = "  |"
NO_EOL = "  \\ no newline at end"
OUTPUT_BLOCKS = ("stdout", "stderr", "screen")
STEP_BLOCKS = frozenset({"explanation", "command", "stdout", "stderr", "screen"})
STEP_FIELDS = frozenset(
    {"phase", "line", "role", "expect", "interactive", "exit", "duration", "timed-out", "verdict"}
)


class TranscriptError(UserError):
    """A file that is not a transcript this version can read; the message names file and line."""


@dataclass(frozen=True)
class Header:
    recipe: str | None
    params: dict[str, str]
    script_sha256: str
    source: str
    target: str
    facts: HostFacts
    started: str  # ISO 8601, UTC
    recorder: str


@dataclass(frozen=True)
class StepRecord:
    index: int
    phase: str  # "main" or "teardown"
    command: str
    expect: Expectation
    exit: int
    duration: float
    verdict: str  # one of VERDICTS
    stdout: str = ""  # for an interactive step: the screen the person saw
    stderr: str = ""
    explanation: str = ""
    line: int = 0
    role: str | None = None
    interactive: str | None = None  # the spawned command of an interactive step
    timed_out: bool = False
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.verdict != "FAIL"

    @property
    def interrupted(self) -> bool:
        """A signal stopped this step before it finished; its output is what it had printed."""
        return (
            self.verdict == "FAIL"
            and bool(self.problems)
            and self.problems[0].startswith(INTERRUPTED_PROBLEM)
        )


@dataclass(frozen=True)
class SnapshotRecord:
    """The observed state of one host at one point of the run (docs/state.md)."""

    index: int  # 1, 2, ... in the order taken
    after_step: int  # the index of the last step that ran before it; 0: none
    state: Snapshot
    role: str | None = None  # the host role of a multi-host recipe
    label: str = ""  # "end of main", or the name a `#@ snapshot NAME` step gave


@dataclass(frozen=True)
class ReachRecord:
    """The reachability matrix a `#@ reach` step asked for, probed after it (docs/reach.md)."""

    index: int  # 1, 2, ... in the order probed
    after_step: int
    matrix: Matrix
    directives: tuple[str, ...] = ()  # the `#@ reach` values as written: replay probes alike
    role: str | None = None  # the host role of a multi-host recipe; None: one host, or all


@dataclass(frozen=True)
class Outcome:
    status: str  # one of STATUSES
    complete: bool  # every step of the script ran
    finished: str
    duration: float
    reason: str = ""
    leftovers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transcript:
    header: Header
    steps: tuple[StepRecord, ...]
    outcome: Outcome | None  # None: the run never finished (crash, kill, truncation)
    path: str = ""
    version: int = VERSION
    truncated: bool = False  # the file ended inside a step record, which was dropped
    snapshots: tuple[SnapshotRecord, ...] = ()  # none in version 1
    reaches: tuple[ReachRecord, ...] = ()  # none before version 3

    @property
    def status(self) -> str:
        return self.outcome.status if self.outcome else "incomplete"

    @property
    def complete(self) -> bool:
        return self.outcome is not None and self.outcome.complete

    @property
    def main_steps(self) -> tuple[StepRecord, ...]:
        return tuple(s for s in self.steps if s.phase == "main")

    @property
    def teardown_steps(self) -> tuple[StepRecord, ...]:
        return tuple(s for s in self.steps if s.phase == "teardown")
