"""A tutorial run's page: the verdict of each block of the page it ran, and the summary line
("6 of 7 blocks hold on Debian 12, Docker 28.2"), from the transcript's shown outputs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from generator.transcript import StepRecord, Transcript
from generator.transcript.blocks import summary, verdicts


@dataclass(frozen=True)
class PageBlock:
    number: int
    line: int
    verdict: str  # holds | differs | skipped
    reasons: tuple[str, ...]


def is_tutorial(transcript: Transcript) -> bool:
    return any(step.expect.shown for step in transcript.steps)


def blocks_of(transcript: Transcript) -> tuple[PageBlock, ...]:
    return tuple(
        PageBlock(b.number, b.line, b.verdict, tuple(b.reasons)) for b in verdicts(transcript.steps)
    )


def summary_of(transcript: Transcript) -> str:
    line = summary(verdicts(transcript.steps), stack(transcript))
    return (
        line if transcript.complete else f"{line}; the record ends early, so more may not have run"
    )


def blocks_in(record: StepRecord) -> tuple[int, ...]:
    """The page blocks a step stands in, in order: one, or a session's several."""
    return tuple(dict.fromkeys(item.block for item in record.expect.shown))


def stack(transcript: Transcript) -> str:
    """`Debian 12, Docker 28.2`: the distribution's name and major version, Docker's release."""
    facts = transcript.header.facts
    parts = []
    distribution = re.match(r"(\w+)\D*?(\d+(?:\.\d+)?)", facts.distribution)
    if distribution:
        parts.append(f"{distribution.group(1)} {distribution.group(2)}")
    docker = re.match(r"(\d+\.\d+)", facts.docker)
    if docker:
        parts.append(f"Docker {docker.group(1)}")
    return ", ".join(parts)


def why(block: PageBlock) -> str:
    """The block's reasons, without the diff lines under them (the steps show those)."""
    said = [r for r in block.reasons if r.startswith(("block ", "skipped"))]
    return "; ".join(said)


def not_typed(record: StepRecord) -> tuple[str, ...]:
    """A session's lines recipe did not type, each with why."""
    if record.interactive is None:
        return ()
    return tuple(f"{s.command}: {s.skip}" for s in record.expect.shown[1:] if s.skip)


def markdown_section(blocks: tuple[PageBlock, ...], cell: Callable[[str], str]) -> list[str]:
    out = ["## Blocks", "", "| block | line | verdict | why |", "|---|---|---|---|"]
    out += [f"| {b.number} | {b.line} | {b.verdict} | {cell(why(b))} |" for b in blocks]
    return out + [""]


def heading(block: PageBlock) -> str:
    return f"Block {block.number} (line {block.line}): {block.verdict}"


def headings(blocks: tuple[PageBlock, ...], step: tuple[int, ...], done: set[int]) -> list[str]:
    """What stands before a step: the heading of the block it starts, or, for a session that
    runs across blocks, one heading for them all and each block's verdict; [] when the step
    goes on in a block already headed."""
    by_number = {b.number: b for b in blocks}
    new = [by_number[n] for n in step if n in by_number and n not in done]
    done.update(b.number for b in new)
    if len(new) <= 1:
        return [heading(b) for b in new]
    return [f"Blocks {new[0].number} to {new[-1].number}: one session", *map(heading, new)]
