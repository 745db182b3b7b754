"""`recipe replay PAGE.md --stack debian-12 --stack debian-13`: each tutorial run on a node of
each stack, one stack after another, and a verdict per block per stack."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from generator.commands.stack_option import StackName, on_stack
from generator.commands.tutorial import Replay
from generator.errors import UserError
from generator.visible import visible

if TYPE_CHECKING:
    from generator.transcript.blocks import BlockVerdict


def check(
    tutorials: Replay,
    paths: list[Path],
    stacks: list[str],
    timeout: float | None,
    quiet: bool,
) -> int:
    """Run every tutorial on each stack; print the table of block x stack on stdout."""
    if tutorials.update and len(stacks) > 1:
        raise UserError("--update rewrites the page from one run; give one --stack with it")
    loaded = [(path, tutorials.load(path)) for path in paths]  # every file read before any runs
    found: dict[tuple[Path, str], list[BlockVerdict]] = {}
    codes = [0]
    for stack in stacks:
        with on_stack(StackName(stack), []) as hosts:
            on_node = replace(tutorials, hosts=hosts)
            for path, (tutorial, script) in loaded:
                if not quiet:
                    print(visible(f"recipe: {path} on {hosts[0]}", one_line=True), file=sys.stderr)
                code, found[path, stack] = on_node.one(path, tutorial, script, timeout, quiet)
                codes.append(code)
    for path, _ in loaded:
        for line in table(str(path), stacks, [found[path, stack] for stack in stacks]):
            print(line)
    return max(codes)


def table(page: str, stacks: list[str], columns: list[list[BlockVerdict]]) -> list[str]:
    """One row per block, one column per stack, then a summary line per stack."""
    from generator.transcript import state_text
    from generator.transcript.blocks import summary

    numbers = sorted({(b.number, b.line) for column in columns for b in column})
    rows = []
    for number, line in numbers:
        cells = [next((b.verdict for b in col if b.number == number), "-") for col in columns]
        rows.append([f"block {number} (line {line})", *cells])
    lines = state_text.table([visible(page, one_line=True), *stacks], rows)
    return lines + [summary(column, stack) for stack, column in zip(stacks, columns, strict=True)]
