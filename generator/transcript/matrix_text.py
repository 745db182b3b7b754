"""The reachability matrix for a person: a table (rows sources, columns targets) and each
contradiction with its likely cause."""

from __future__ import annotations

from generator.transcript.matrix import Cell, Matrix
from generator.visible import plural

OK, NO, FAIL, SELF = "ok", "--", "FAIL", "."
MAX_TABLE = 30  # endpoints; a wider table is no help on a terminal (--json has it all)


def cell_text(cells: list[Cell]) -> str:
    """One (source, target) pair over the target's addresses."""
    if any(c.contradiction for c in cells):
        return FAIL
    return OK if any(c.actual for c in cells) else NO


def table(matrix: Matrix, by_name: bool = False) -> list[str]:
    """By address; or, by_name, the probes by name alone."""
    by_pair: dict[tuple[str, str], list[Cell]] = {}
    for cell in matrix.cells:
        if bool(cell.name) != by_name:
            continue
        by_pair.setdefault((cell.source, cell.target), []).append(cell)
    names = matrix.endpoints
    width = max(len(n) for n in names)
    numbers = [str(i) for i in range(1, len(names) + 1)]
    column = max(4, *(len(n) for n in numbers)) + 1
    lines = [" " * (width + 5) + "".join(n.rjust(column) for n in numbers)]
    for i, source in enumerate(names, 1):
        row = [
            SELF if source == target else cell_text(by_pair.get((source, target), []))
            for target in names
        ]
        lines.append(f"{i:>3}  {source.ljust(width)}" + "".join(c.rjust(column) for c in row))
    return lines


def render(matrix: Matrix) -> str:
    pairs = {(c.source, c.target) for c in matrix.cells}
    bad = matrix.contradictions
    lines = [
        f"reachability on {matrix.host}: {plural(len(matrix.endpoints), 'endpoint')}, "
        f"{plural(len(pairs), 'pair')}"
    ]
    if len(matrix.endpoints) <= MAX_TABLE:
        lines += [
            "",
            *table(matrix),
            "",
        ]
        if any(c.name for c in matrix.cells):
            lines += ["  by name:", *table(matrix, by_name=True), ""]
        lines += [
            f"  {OK} reaches, {NO} does not, as expected; {FAIL} contradicts",
        ]
    wrong = {(c.source, c.target) for c in bad}
    verdict = (
        "the matrix holds"
        if not bad
        else f"{len(wrong)} pair{'s' * (len(wrong) != 1)} contradict{'s' * (len(wrong) == 1)} "
        "the expected matrix"
    )
    took = f"{matrix.seconds:.2f} s" if matrix.seconds >= 1 else f"{matrix.seconds * 1000:.0f} ms"
    lines += ["", f"probed in {took}: {verdict}"]
    for cell in bad:
        want = "reach" if cell.expected else "not reach"
        got = "it reached" if cell.actual else cell.detail
        lines.append(
            f"  {cell.source} -> {cell.target} ({cell.via}): expected to {want} "
            f"({cell.why}), got {got}; likely cause: {cell.cause}"
        )
    return "\n".join(lines)
