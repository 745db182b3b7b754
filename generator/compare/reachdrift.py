"""Replay's comparison of the reachability matrices (issue 13): each `#@ reach` point of the
recording against the replay's matrix after the same step and on the same host. A changed cell
is drift, named by its pair: it reached and now does not, or the other way round, or what was
expected changed. Addresses and timings are not compared: a Docker network on a machine with
history gets another subnet, and the pair is still the same pair."""

from __future__ import annotations

from collections.abc import Sequence

from generator.compare.sides import REPLAY, Sides
from generator.transcript.matrix import Cell, Matrix
from generator.transcript.records import ReachRecord


def compare(
    recorded: Sequence[ReachRecord], replayed: Sequence[ReachRecord], sides: Sides = REPLAY
) -> tuple[list[str], list[str]]:
    """(one line per changed cell, notes)."""
    lines: list[str] = []
    notes: list[str] = []
    points = list(dict.fromkeys((r.after_step, r.role or "") for r in recorded))
    for step, role in points:
        old = _at(recorded, step, role)
        new = _at(replayed, step, role)
        where = f"after step {step}" + (f" on {role}" if role else "")
        if new is None:
            notes.append(f"{sides.new} probed no matrix {where}: it is not compared there")
            continue
        lines += [f"{where}: {line}" for line in cells(old, new, sides)] if old is not None else []
    for record in replayed:
        if (record.after_step, record.role or "") not in points:
            where = f"after step {record.after_step}" + (
                f" on {record.role}" if record.role else ""
            )
            lines.append(f"{where}: a matrix {sides.old} does not have")
    return lines, notes


def _at(records: Sequence[ReachRecord], step: int, role: str) -> Matrix | None:
    found = [r.matrix for r in records if (r.after_step, r.role or "") == (step, role)]
    return found[0] if found else None


def cells(old: Matrix, new: Matrix, sides: Sides = REPLAY) -> list[str]:
    """The cells that differ, by pair, in the recording's order, then the new ones."""
    before = {c.key: c for c in old.cells}
    after = {c.key: c for c in new.cells}
    lines = []
    for key, cell in before.items():
        now = after.get(key)
        if now is None:
            lines.append(f"{_pair(cell)}: no longer probed")
        elif now.actual != cell.actual:
            was, got = _did(cell), _did(now)
            lines.append(f"{_pair(cell)}: {was} {sides.as_then}, {got} {sides.now} ({now.detail})")
        elif now.expected != cell.expected:
            then, now_ = sides.as_then, sides.now
            lines.append(f"{_pair(cell)}: expected to {_to(cell)} {then}, to {_to(now)} {now_}")
    lines += [f"{_pair(c)}: newly probed, {_did(c)}" for k, c in after.items() if k not in before]
    return lines


def _pair(cell: Cell) -> str:
    how = f"by name {cell.name}" if cell.name else cell.segment
    return f"{cell.source} -> {cell.target} ({how})"


def _did(cell: Cell) -> str:
    return "reached" if cell.actual else "did not reach"


def _to(cell: Cell) -> str:
    return "reach" if cell.expected else "not reach"
