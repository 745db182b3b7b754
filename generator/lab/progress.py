"""Progress on stderr: one line per step (running, ok, expected failure, FAIL, with its duration),
with rich colours on a terminal and plain lines otherwise. stdout stays free for --json."""

from __future__ import annotations

import sys
from typing import IO, Any

from generator.lab.listener import Listener
from generator.lab.runner import Report
from generator.lab.script import Step
from generator.transcript import StepRecord
from generator.visible import plural, visible

LABELS = {
    "ok": "ok",
    "expected-failure": "expected failure",
    "FAIL": "FAIL",
    "stopped": "stopped",
    "skipped": "skipped",
}
_STYLES = {
    "ok": "green",
    "expected-failure": "cyan",
    "FAIL": "bold red",
    "stopped": "bold yellow",
    "skipped": "yellow",
}


def _label(record: StepRecord) -> str:
    """The verdict's label; a step that passed with a non-zero status (a plain script's, as
    bash goes on) says its status."""
    label = LABELS[_verdict(record)]
    return f"ok, exit {record.exit}" if label == "ok" and record.exit != 0 else label


def _verdict(record: StepRecord) -> str:
    """A step a signal stopped did not contradict its expectation: it shows as `stopped`."""
    return "stopped" if record.interrupted else record.verdict


_OUTPUT_TAIL = 20  # lines of a failed step's output to show


def first_line(command: str, width: int = 70) -> str:
    """The command's first line, its control characters escaped (recorded text is untrusted)."""
    line = visible(command.split("\n", 1)[0])
    more = " ..." if "\n" in command else ""
    return (line[: width - 3] + "...") if len(line) > width else line + more


def _counter(index: int, phase: str, total: int) -> str:
    return f"teardown {index}" if phase == "teardown" else f"{index}/{total}"


class PlainProgress(Listener):
    """Lines for logs and CI: written when each step ends."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def step_finished(self, record: StepRecord, total: int) -> None:
        label = _label(record)
        where = _counter(record.index, record.phase, total)
        self.stream.write(
            f"[{where}] {label:<16} {record.duration:7.3f}s  {first_line(record.command)}\n"
        )
        if not record.passed:
            self.stream.write(failure_details(record))
        self.stream.flush()

    def note(self, message: str) -> None:
        self.stream.write(f"recipe: {visible(message)}\n")
        self.stream.flush()


class RichProgress(Listener):
    """On a terminal: the running step in rich's live display (a spinner that the step's result
    line replaces), so no escape code is written by hand; one line per step stays."""

    def __init__(self) -> None:
        from rich.console import Console  # late: rich costs import time that pipes don't need

        self.console: Any = Console(stderr=True, highlight=False)
        self.status: Any = None  # the live display while a step runs

    def step_started(self, step: Step, total: int) -> None:
        from rich.live import Live
        from rich.spinner import Spinner
        from rich.text import Text

        where = _counter(step.index, step.phase, total)
        text = Text(f"[{where}] running  {first_line(step.command)}", no_wrap=True)
        text.truncate(max(self.console.width - 3, 10), overflow="ellipsis")
        self._clear()
        # stdout is the product's (--json): only stderr writes go through the display.
        self.status = Live(
            Spinner("dots", text),
            console=self.console,
            transient=True,
            redirect_stdout=False,
            refresh_per_second=12.5,
        )
        self.status.start()

    def _clear(self) -> None:
        """The live display gone (transient: it leaves no line), before anything is printed."""
        if self.status is not None:
            status, self.status = self.status, None
            status.stop()

    def step_finished(self, record: StepRecord, total: int) -> None:
        from rich.markup import escape

        self._clear()
        label = _label(record)
        where = _counter(record.index, record.phase, total)
        style = _STYLES[_verdict(record)]
        self.console.print(
            f"[dim]\\[{where}][/dim] [{style}]{label:<16}[/{style}] {record.duration:7.3f}s  "
            f"{escape(first_line(record.command))}",
            no_wrap=True,
            overflow="ellipsis",
        )
        if not record.passed:
            self.console.print(escape(failure_details(record)), end="", style="red")

    def note(self, message: str) -> None:
        from rich.markup import escape

        self._clear()
        self.console.print(f"[bold yellow]recipe:[/bold yellow] {escape(visible(message))}")


class QuietProgress(Listener):
    """--quiet: nothing per step; a failure's details still show, since they explain exit 1."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def step_finished(self, record: StepRecord, total: int) -> None:
        if not record.passed and not record.interrupted:  # the summary says where it stopped
            self.stream.write(f"FAIL step {record.index}\n" + failure_details(record))


def choose(quiet: bool, stream: IO[str] | None = None) -> Listener:
    stream = stream or sys.stderr
    if quiet:
        return QuietProgress(stream)
    if stream.isatty():
        return RichProgress()
    return PlainProgress(stream)


def failure_details(record: StepRecord) -> str:
    """The step, its command, what went wrong and the end of its output."""
    lines = [f"  step {record.index} (line {record.line}), exit status {record.exit}:"]
    lines += [f"    $ {visible(line)}" for line in record.command.split("\n")]
    lines += [f"  ! {visible(problem)}" for problem in record.problems]
    for name, text in (("stdout", record.stdout), ("stderr", record.stderr)):
        if record.interactive is not None and name == "stdout":
            name = "screen"
        shown = text.rstrip("\n").split("\n")[-_OUTPUT_TAIL:] if text else []
        if shown:
            lines.append(f"  {name}:")
            lines += [f"    | {visible(line)}" for line in shown]
    return "\n".join(lines) + "\n"


def _counts(records: list[StepRecord]) -> str:
    """`16 ok, 1 expected failure, 2 failed`: the zero counts left out, but never all of them."""
    ok = len([r for r in records if r.verdict == "ok"])
    expected = len([r for r in records if r.verdict == "expected-failure"])
    failed = len([r for r in records if r.verdict == "FAIL"])
    parts = [f"{ok} ok"]
    if expected:
        parts.append(plural(expected, "expected failure"))
    if failed:
        parts.append(f"{failed} failed")
    skipped = len([r for r in records if r.verdict == "skipped"])
    if skipped:
        parts.append(f"{skipped} skipped")
    return ", ".join(parts)


def summary_line(report: Report, transcript: str | None) -> str:
    """`failed: 1 ok, 1 failed; teardown 2 ok in 0.31 s (step 2 contradicted its expectation)`.

    Main steps and teardown are counted apart: `2 ok` must not mean two lab steps when one of
    them was a teardown step. The step a signal stopped counts in neither; the reason names it.
    """
    main = [r for r in report.records if r.phase == "main" and not r.interrupted]
    teardown = [r for r in report.records if r.phase == "teardown"]
    interrupted = report.status == "interrupted" and report.reason.startswith("interrupted")
    # An interruption's reason (`interrupted by SIGINT during step 3 of 18`) leads the line.
    text = f"{report.reason if interrupted else report.status}: {_counts(main)}"
    if teardown:
        text += f"; teardown {_counts(teardown)}"
    text += f" in {report.duration:.2f} s"
    if report.reason and not interrupted:
        text += f" ({report.reason})"
    if transcript:
        text += f"; transcript {transcript}"
    return text


def print_blocks(records: list[StepRecord], stream: IO[str]) -> None:
    """A tutorial's verdict per block, and the summary line: what a reader wants to know."""
    from generator.transcript.blocks import summary, verdicts

    found = verdicts(records)
    for block in found:
        if block.verdict != "holds":
            print(f"block {block.number} (line {block.line}) {block.verdict}:", file=stream)
            for reason in block.reasons[:20]:
                print(f"  {visible(reason)}", file=stream)
    print(summary(found), file=stream)
