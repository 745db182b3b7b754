"""`recipe replay PATHS --stack S [--stack T] [-j N]`: the single-host goldens replayed on nodes
of each stack, reported as a matrix of lab x stack (generator/lab/replay_matrix.py runs it).

Bad input is one line and exit 2 before any node is made: an unknown stack, --stack with --host
or a Markdown tutorial, -j below 1, a transcript that does not replay (docs/replay.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.compare.driftreport import TranscriptReport, text_lines
from generator.compare.runs import BindingDiff, Comparison, StepDrift, StreamDiff
from generator.errors import UserError
from generator.lab import replay_matrix as matrix
from generator.lab.replay_matrix import Cell
from generator.transcript import state_text
from generator.visible import plural, visible

ENTRY = "from generator.cli import main; main()"  # the console script's entry point


@dataclass(frozen=True)
class StackRun:
    """What `recipe replay --stack` was asked, options checked."""

    stacks: list[str]
    jobs: int
    update: bool
    dry_run: bool
    as_json: bool
    colour: bool
    quiet: bool
    recipe_dirs: list[Path]  # --recipes, which each child gets again
    ignore: list[str]
    recorded_commands: bool
    identity: Path | None
    strict_host_key: bool
    timeout: float | None

    @property
    def passed(self) -> list[str]:
        """The replay options each child gets as they were given."""
        given = [arg for pattern in self.ignore for arg in ("--ignore", pattern)]
        given += ["--recorded-commands"] if self.recorded_commands else []
        given += ["--strict-host-key"] if self.strict_host_key else []
        given += ["--identity", str(self.identity)] if self.identity else []
        given += ["--timeout", str(self.timeout)] if self.timeout is not None else []
        return given


def checked_stacks(
    given: Sequence[str],
    jobs: int,
    host: Sequence[str] | None,
    paths: Sequence[Path],
    image: bool = False,
) -> list[str]:
    """The stacks, each once, in the order given; bad input is one line, exit 2."""
    from generator.commands.tutorial import is_tutorial
    from generator.hosts import stacks

    if jobs < 1:
        raise UserError(f"-j {jobs}: give 1 or more labs to run at once")
    if not given:
        raise UserError("-j runs labs at once on nodes of a stack; name the stacks with --stack")
    if host:
        raise UserError(
            "--stack runs each lab on a node of that stack; leave out --host (or leave out "
            "--stack to run on the host you name)"
        )
    tutorial = next((p for p in paths if is_tutorial(str(p))), None)
    if image and tutorial is None:
        raise UserError("--image works with Markdown tutorials, not with transcripts")
    if tutorial is not None and jobs != 1:
        raise UserError(
            f"{visible(str(tutorial), one_line=True)}: a tutorial runs on one stack after "
            "another; leave out -j"
        )
    return [stacks.get(name).name for name in dict.fromkeys(given)]


def replay(paths: Sequence[Path], run: StackRun) -> int:
    """Plan every cell, run them, print the matrix; the exit status: 0 all hold, 1 any not."""
    from generator.transcript import files

    transcripts = files.read_all(files.find(paths))
    cells = matrix.plan(transcripts, run.stacks, run.update)
    _check_plans(cells, run)
    if run.dry_run:
        for cell in cells:
            cell.reason = cell.reason or "dry run"
    else:
        recipes = [arg for d in run.recipe_dirs for arg in ("--recipes", str(d))]
        options = [*run.passed, "--json", "--quiet", "--color", "never"]
        child = matrix.Child([sys.executable, "-c", ENTRY, *recipes, "replay"], options, run.update)
        matrix.run(cells, run.stacks, run.jobs, child, _say(run.quiet))
    if run.as_json:
        print(json.dumps(as_json(cells, run), indent=2))
    else:
        for line in text(cells, run.stacks, run.colour, run.dry_run):
            print(line)
    return 0 if run.dry_run or all(cell.ok for cell in cells) else 1


def _check_plans(cells: list[Cell], run: StackRun) -> None:
    """Each reference planned as its child will plan it, so a transcript that cannot replay
    (a recipe that no longer renders, a tutorial's run) is bad input before any node is made."""
    from generator.lab import replay as engine
    from generator.transcript import files

    for reference in dict.fromkeys(c.reference for c in cells if c.reference is not None):
        engine.plan(
            files.read(reference),
            host=["stack-node"],
            recipe_dirs=run.recipe_dirs,
            ignore=run.ignore,
            recorded_commands=run.recorded_commands,
        )


def _say(quiet: bool) -> matrix.Say:
    def say(line: str) -> None:
        if not quiet:
            print(visible(f"recipe: {line}", one_line=True), file=sys.stderr, flush=True)

    return say


def _rows(cells: list[Cell]) -> dict[Path, dict[str, Cell]]:
    rows: dict[Path, dict[str, Cell]] = {}
    for cell in cells:
        rows.setdefault(cell.golden, {})[cell.stack] = cell
    return rows


def _words(cell: Cell, dry_run: bool) -> str:
    if dry_run and cell.reference is not None:
        words = f"would replay {cell.reference}"
    else:
        words = matrix.describe(cell)
    return visible(words + (" *" if cell.notes else ""), one_line=True)


def text(cells: list[Cell], stacks: Sequence[str], colour: bool, dry_run: bool) -> Iterator[str]:
    """The matrix, its footnotes, each drifting cell's report, and one line per stack."""
    rows = _rows(cells)
    labs = {golden: visible(next(iter(row.values())).lab) for golden, row in rows.items()}
    body = [[labs[g], *(_words(row[s], dry_run) for s in stacks)] for g, row in rows.items()]
    yield from state_text.table(["lab", *stacks], body)
    for stack in stacks:
        notes = dict.fromkeys(n for c in cells if c.stack == stack for n in c.notes)
        for note in notes:
            yield visible(f"* {stack}: {note}", one_line=True)
    for cell in cells:
        if cell.report is not None and cell.state == matrix.DRIFTS:
            yield ""
            where = f"{cell.lab} on {cell.stack} ({cell.node}, compared with {cell.reference}):"
            yield visible(where, one_line=True)
            yield from text_lines(report_of(cell.report), colour)
    if not dry_run:
        yield ""
        yield from (summary(cells, stack) for stack in stacks)


def summary(cells: list[Cell], stack: str) -> str:
    """debian-13: 7 of 8 hold, 1 drifting, 0 failed, 2 not run (two hosts)"""
    mine = [c for c in cells if c.stack == stack]
    ran = [c for c in mine if c.state != matrix.NOT_RUN]
    count = {state: len([c for c in mine if c.state == state]) for state in matrix.STATES}
    line = f"{stack}: {count[matrix.HOLDS]} of {plural(len(ran), 'lab')} hold, "
    line += f"{count[matrix.DRIFTS]} drifting, {count[matrix.FAILED]} failed"
    if count[matrix.NOT_RUN]:
        line += f", {count[matrix.NOT_RUN]} not run"
    updated = len([c for c in mine if c.written is not None])
    if updated:
        line += f", {updated} written"
    return line


def report_of(data: dict[str, Any]) -> TranscriptReport:
    """A child's JSON report (driftreport.as_json) as the report it was, to print it so."""
    drifts = [
        StepDrift(
            int(d["index"]),
            str(d["command"]),
            tuple(d["reasons"]),
            tuple(StreamDiff(stream, tuple(lines)) for stream, lines in d["diffs"].items()),
            tuple(
                BindingDiff(b["recorded"], b["replayed"], b["recorded_value"], b["replayed_value"])
                for b in d["bindings"]
            ),
        )
        for d in data["drifts"]
    ]
    comparison = Comparison(int(data["compared"]), drifts, [], data["state"], data["reach"])
    return TranscriptReport(
        str(data["path"]),
        comparison,
        bool(data["recipe_changed"]),
        bool(data["incomplete"]),
        bool(data["updated"]),
        notes=list(data["notes"]),
        problems=list(data["problems"]),
        commands=data["commands"],
    )


def as_json(cells: list[Cell], run: StackRun) -> dict[str, Any]:
    """The matrix for machines: docs/schemas/replay-matrix.json."""
    rows = [
        {
            "lab": next(iter(row.values())).lab,
            "path": str(golden),
            "cells": [_cell_json(row[stack]) for stack in run.stacks],
        }
        for golden, row in _rows(cells).items()
    ]
    totals = []
    for stack in run.stacks:
        mine = [c for c in cells if c.stack == stack]
        counts = {state: len([c for c in mine if c.state == state]) for state in matrix.STATES}
        totals.append({"stack": stack, **{k.replace(" ", "_"): v for k, v in counts.items()}})
    ok = run.dry_run or all(c.ok for c in cells)
    return {
        "ok": ok,
        "dry_run": run.dry_run,
        "stacks": run.stacks,
        "jobs": run.jobs,
        "labs": rows,
        "summary": totals,
    }


def _cell_json(cell: Cell) -> dict[str, Any]:
    report = cell.report or {}
    return {
        "stack": cell.stack,
        "state": cell.state,
        "words": matrix.describe(cell),
        "reason": cell.reason or None,
        "node": cell.node or None,
        "reference": None if cell.reference is None else str(cell.reference),
        "notes": cell.notes,
        "drifting": len(report.get("drifts", [])),
        "seconds": round(cell.seconds, 3),
        "written": None if cell.written is None else str(cell.written),
        "report": cell.report,
    }
