"""A tutorial's verdict per block, from its step records: it holds, it differs (the lines that
say how), or it was skipped (and why). A session's step speaks for several blocks; a block's
commands may be spread over several steps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from generator.transcript.records import StepRecord
from generator.visible import plural


@dataclass
class BlockVerdict:
    number: int
    line: int
    verdict: str = "holds"  # holds | differs | skipped
    reasons: list[str] = field(default_factory=list)
    ran: int = 0  # commands that ran
    skipped: int = 0


def verdicts(records: Iterable[StepRecord]) -> list[BlockVerdict]:
    found: dict[int, BlockVerdict] = {}
    for record in records:
        for item in record.expect.shown:
            block = found.setdefault(item.block, BlockVerdict(item.block, item.line))
            if item.skip or record.verdict == "skipped":
                block.skipped += 1
                why = item.skip or (record.problems[0] if record.problems else "")
                block.reasons.append(why if why.startswith("skipped") else f"skipped: {why}")
                continue
            block.ran += 1
            mine = f"block {item.block}, line {item.line}:"
            named = [p for p in record.problems if p.startswith(mine)]
            unnamed = not any(p.startswith("block ") for p in record.problems)
            if record.verdict == "FAIL" and (named or unnamed):
                block.verdict = "differs"
                block.reasons += (
                    _with_diff(record.problems, mine) if named else list(record.problems)
                )
    for block in found.values():
        if block.verdict != "differs" and block.ran == 0:
            block.verdict = "skipped"
    return [found[n] for n in sorted(found)]


def _with_diff(problems: tuple[str, ...], mine: str) -> list[str]:
    """The block's own problem lines and the diff lines that follow each."""
    out: list[str] = []
    taking = False
    for problem in problems:
        if problem.startswith("block "):
            taking = problem.startswith(mine)
        if taking:
            out.append(problem)
    return out


def summary(found: list[BlockVerdict], where: str = "") -> str:
    """`12 of 14 blocks hold on Debian 12, Docker 20.10`, with what differed or was skipped."""
    holding = len([b for b in found if b.verdict == "holds"])
    differ = len([b for b in found if b.verdict == "differs"])
    skipped = len([b for b in found if b.verdict == "skipped"])
    hold = "holds" if len(found) == 1 else "hold"
    line = f"{holding} of {plural(len(found), 'block')} {hold}" + (f" on {where}" if where else "")
    extra = [f"{differ} differ{'s' if differ == 1 else ''}" if differ else ""]
    extra.append(f"{skipped} skipped" if skipped else "")
    extra = [e for e in extra if e]
    return line + (f" ({', '.join(extra)})" if extra else "")
