"""The observed state of a replay against the recorded one: the graphs of what each lab made
(generator/compare/graph.py), compared per snapshot point (`end of main`, each `#@ snapshot`)."""

from __future__ import annotations

from collections.abc import Sequence

from generator.compare import graph
from generator.compare.sides import REPLAY, Sides
from generator.transcript.records import SnapshotRecord
from generator.transcript.state import Snapshot

NO_RECORDED = (
    "the recording holds no state snapshot (transcript format 1, or taken with --no-snapshots): "
    "the observed state is not compared; recipe replay --update records one"
)


def compare(
    recorded: Sequence[SnapshotRecord],
    observed: Sequence[SnapshotRecord],
    sides: Sides = REPLAY,
) -> tuple[list[str], list[str]]:
    """(one line per changed edge, notes). Each point the recording observed is compared with
    the replay's point of the same label; a point the replay did not reach is a note, since
    the steps' drift already says why (a failed or missing step)."""
    if not recorded:
        if sides != REPLAY:  # two recordings: --update is no fix
            return [], [f"{sides.old} holds no state snapshot: the observed state is not compared"]
        return [], [NO_RECORDED]
    lines: list[str] = []
    notes: list[str] = []
    labels = list(dict.fromkeys(r.label for r in recorded))
    for label in labels:
        old = _at(recorded, label)
        new = _at(observed, label)
        if not new:
            notes.append(
                f"{sides.new} took no snapshot at {label}: the state is not compared there"
            )
            continue
        prefix = f"at {label}: " if len(labels) > 1 else ""
        lines += [prefix + line for line in graph.drift(old, new, sides)]
    return lines, notes


def _at(records: Sequence[SnapshotRecord], label: str) -> list[tuple[str, Snapshot]]:
    return [(r.role or "", r.state) for r in records if r.label == label]
