"""Print comparisons for people (unified diffs, colour on a terminal only) and for machines
(JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from generator.compare.runs import Comparison, StepDrift
from generator.compare.sides import REPLAY, Sides
from generator.visible import plural, visible

_RED, _GREEN, _CYAN, _BOLD, _RESET = "\033[31m", "\033[32m", "\033[36m", "\033[1m", "\033[0m"


@dataclass
class TranscriptReport:
    """One transcript's outcome: its comparison plus what replay noticed around it."""

    path: str
    comparison: Comparison
    recipe_changed: bool = False
    incomplete: bool = False
    updated: bool = False
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # drift outside any step: leftovers
    commands: str | None = None  # replay: "recipe" (rendered again) or "transcript" (recorded)
    sides: Sides = REPLAY  # recipe diff: the two files, by name

    @property
    def ok(self) -> bool:
        return self.comparison.ok and not self.problems

    def summary(self) -> str:
        c = self.comparison
        verdict = "ok" if c.ok else "DRIFT"
        if c.ok and self.problems:  # the steps agree, but the run did not end as recorded
            verdict = "PROBLEM"
        compared = plural(c.compared, "step")
        text = f"{self.path}: {verdict}, {compared} compared, {len(c.drifts)} drifting"
        if c.state:
            text += f", {plural(len(c.state), 'change')} in the observed state"
        if c.reach:
            text += f", {plural(len(c.reach), 'change')} in the reachability matrices"
        if self.problems:
            text += f", {plural(len(self.problems), 'problem')}"
        if self.recipe_changed:
            text += ", recipe changed since recording"
        if self.commands == "transcript":
            text += ", commands from the transcript"
        if self.incomplete:
            text += ", recording incomplete"
        if self.updated:
            text += ", updated"
        return text


def _paint(text: str, colour: str, on: bool) -> str:
    text = visible(
        text, one_line=True
    )  # recorded text: its own escapes must not reach the terminal
    return f"{colour}{text}{_RESET}" if on else text


def _diff_line(line: str, colour: bool) -> str:
    if not colour:
        return visible(line, one_line=True)
    if line.startswith(("+++", "---")):
        return _paint(line, _BOLD, True)
    if line.startswith("+"):
        return _paint(line, _GREEN, True)
    if line.startswith("-"):
        return _paint(line, _RED, True)
    if line.startswith("@@"):
        return _paint(line, _CYAN, True)
    return visible(line, one_line=True)


def step_lines(drift: StepDrift, colour: bool, sides: Sides = REPLAY) -> Iterator[str]:
    first, *more = drift.command.split("\n")  # only newlines: splitlines() breaks on \r too
    suffix = " ..." if more else ""
    yield _paint(f"step {drift.index}: {first}{suffix}", _BOLD, colour)
    for reason in drift.reasons:
        yield "  " + visible(reason, one_line=True)
    for diff in drift.diffs:
        for line in diff.lines:
            yield "    " + _diff_line(line, colour)
    if drift.bindings:
        yield "  bindings that differ:"
        for binding in drift.bindings:
            yield "    " + visible(binding.describe(sides), one_line=True)


def text_lines(report: TranscriptReport, colour: bool) -> Iterator[str]:
    """Each drifting step, then the transcript's notes and its one-line summary."""
    for drift in report.comparison.drifts:
        yield from step_lines(drift, colour, report.sides)
    if report.comparison.state:
        yield _paint("observed state:", _BOLD, colour)
        for line in report.comparison.state:
            yield "  " + visible(line, one_line=True)
    if report.comparison.reach:
        yield _paint("reachability:", _BOLD, colour)
        for line in report.comparison.reach:
            yield "  " + visible(line, one_line=True)
    for problem in report.problems:
        yield _paint(f"problem: {problem}", _RED, colour)
    for note in report.notes + report.comparison.notes:
        yield "note: " + visible(note, one_line=True)
    yield _paint(report.summary(), _GREEN if report.ok else _RED, colour)


def as_json(report: TranscriptReport) -> dict[str, Any]:
    c = report.comparison
    return {
        "path": report.path,
        # What the "recorded" and "replayed" keys of a binding stand for: in recipe diff, the
        # two files (docs/replay.md).
        "sides": {"recorded": report.sides.old_label, "replayed": report.sides.new_label},
        "ok": report.ok,
        "compared": c.compared,
        "recipe_changed": report.recipe_changed,
        "incomplete": report.incomplete,
        "commands": report.commands,
        "updated": report.updated,
        "notes": report.notes + c.notes,
        "problems": list(report.problems),
        "state": list(c.state),
        "reach": list(c.reach),
        "drifts": [
            {
                "index": d.index,
                "command": d.command,
                "reasons": list(d.reasons),
                "diffs": {s.stream: list(s.lines) for s in d.diffs},
                "bindings": [
                    {
                        "recorded": b.recorded,
                        "replayed": b.replayed,
                        "recorded_value": b.recorded_value,
                        "replayed_value": b.replayed_value,
                    }
                    for b in d.bindings
                ],
            }
            for d in c.drifts
        ],
    }
