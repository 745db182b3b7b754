"""Which shown outputs `--update` rewrites after a tutorial's run: those of the commands whose
output differs from the page as a reader compares; within them, the page's own lines stay
wherever they differ only by volatile values (compare/reader.py `kept`)."""

from __future__ import annotations

from collections.abc import Iterable

from generator.compare.reader import ReaderComparison
from generator.lab.page_check import split_screen
from generator.transcript import StepRecord
from generator.tutorial.model import Command, Tutorial


def changes(
    tutorial: Tutorial, records: Iterable[StepRecord], images: tuple[tuple[str, str], ...]
) -> list[tuple[Command, str]]:
    by_place = {(b.number, c.line): c for b in tutorial.blocks for c in b.commands}
    reader = ReaderComparison(dict(images))
    found: list[tuple[Command, str]] = []
    for record in records:
        shown = record.expect.shown
        if record.verdict == "skipped" or not shown:
            continue
        if record.interactive is not None:
            outputs = [""] + split_screen(record.stdout, [s.command for s in shown[1:]])
        else:
            outputs = [record.stdout + record.stderr]
        for item, actual in zip(shown, outputs, strict=False):
            command = by_place.get((item.block, item.line))
            if command is None or item.skip or not item.compare or not (item.output or "").strip():
                continue  # a page that shows nothing keeps showing nothing
            assert item.output is not None
            if not reader.compare(item.output, actual).holds:
                found.append((command, reader.kept(item.output, actual)))
    return found
