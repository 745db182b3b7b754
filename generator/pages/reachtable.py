"""A reachability matrix as a page shows it: one row a source, one column a target, each cell
what was expected against what was seen, and each contradiction in words."""

from __future__ import annotations

from dataclasses import dataclass

from generator.transcript.matrix import Cell, Matrix
from generator.transcript.records import ReachRecord

YES, NO = "reaches", "no"


@dataclass(frozen=True)
class Grid:
    title: str
    targets: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (source, one text per target)
    failing: tuple[str, ...]  # each contradiction, one line
    rules: tuple[str, ...]

    @property
    def holds(self) -> bool:
        return not self.failing


def grid(record: ReachRecord) -> Grid:
    matrix = record.matrix
    by_pair: dict[tuple[str, str], list[Cell]] = {}
    for cell in matrix.cells:
        by_pair.setdefault((cell.source, cell.target), []).append(cell)
    names: dict[tuple[str, str], list[Cell]] = {}
    for cell in (c for c in matrix.cells if c.name):
        names.setdefault((cell.source, cell.target), []).append(cell)
    rows = tuple(
        (source, tuple(_both(by_pair, names, source, t) for t in matrix.endpoints))
        for source in matrix.endpoints
    )
    where = f" on {record.role}" if record.role else ""
    title = f"Who reaches whom after step {record.after_step}{where}"
    return Grid(title, matrix.endpoints, rows, _failing(matrix), matrix.rules)


def _both(
    by_pair: dict[tuple[str, str], list[Cell]],
    names: dict[tuple[str, str], list[Cell]],
    source: str,
    target: str,
) -> str:
    """By address, then by name when it was probed: `reaches; by name: no`."""
    plain = [c for c in by_pair.get((source, target), []) if not c.name]
    text = _text(plain, source == target)
    named = names.get((source, target), [])
    return f"{text}; by name: {_text(named, False)}" if named else text


def _text(cells: list[Cell], itself: bool) -> str:
    if itself or not cells:
        return ""
    wrong = [c for c in cells if c.contradiction]
    if wrong:
        c = wrong[0]
        return f"FAIL: expected {'yes' if c.expected else 'no'}, got {'yes' if c.actual else 'no'}"
    return YES if any(c.actual for c in cells) else NO


def _failing(matrix: Matrix) -> tuple[str, ...]:
    return tuple(
        f"{c.source} -> {c.target} ({c.via}): expected to {'reach' if c.expected else 'not reach'}"
        f" ({c.why}), got {'it reached' if c.actual else c.detail}; likely cause: {c.cause}"
        for c in matrix.contradictions
    )
