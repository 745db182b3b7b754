"""Where a lab's golden on another stack differs from its base golden, and why: docs/stacks.toml.

Each difference is a step that drifts between the two goldens, as `recipe diff` would report it
(generator/compare/stackdrift.py); a note of docs/stacks.toml explains it when the note names
the stack, the lab (or every lab) and a pattern of the step's command, and, with `changes`,
when every line that changed matches that pattern too. A drift no note explains is shown as
such on the lab page, and tests/pages/test_stack_notes.py fails on it for the goldens.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.compare.runs import StepDrift
from generator.errors import UserError
from generator.pages import stacks
from generator.transcript import Transcript

DATA = Path(__file__).resolve().parents[2] / "docs" / "stacks.toml"
ANY_LAB = "*"
_KEYS = {"stack", "lab", "step", "changes", "why"}


@dataclass(frozen=True)
class Note:
    """One [[difference]] of docs/stacks.toml."""

    stack: str  # debian-13
    lab: str  # a recipe's name, or "*" for every lab
    step: str  # a regex searched in the step's command
    why: str  # what the page says
    changes: str | None = None  # a regex every changed line must match; None: any change

    def explains(self, stack: str, lab: str, drift: StepDrift) -> bool:
        if self.stack != stack or self.lab not in (lab, ANY_LAB):
            return False
        if not re.search(self.step, drift.command, re.MULTILINE):
            return False
        if self.changes is None:
            return True
        if set(drift.reasons) - {"stdout differs", "stderr differs"}:
            return False  # an exit status, or a step one side lacks, is more than changed lines
        pattern = re.compile(self.changes)
        return all(pattern.search(line) for line in changed_lines(drift))


@dataclass(frozen=True)
class Difference:
    """A step that drifts on `stack`, and the note that explains it (None: nothing does)."""

    stack: str
    lab: str
    index: int  # the step's number in the other stack's golden
    command: str
    reasons: tuple[str, ...]
    lines: tuple[str, ...]  # the changed lines, - on the base stack, + on this one
    note: Note | None

    @property
    def why(self) -> str:
        return self.note.why if self.note else ""

    @property
    def first_line(self) -> str:
        return self.command.strip().split("\n", 1)[0]


def changed_lines(drift: StepDrift) -> list[str]:
    return [
        line
        for diff in drift.diffs
        for line in diff.lines
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def load(path: Path | None = None) -> list[Note]:
    """The notes of a stacks.toml (default: the checkout's docs/stacks.toml); none when there
    is no such file, as for an installed wheel."""
    path = path or DATA
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UserError(f"cannot read stack notes {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    notes = []
    for number, entry in enumerate(data.get("difference", []), start=1):
        try:
            notes.append(_note(entry))
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise UserError(f"{path}: difference {number}: {exc}") from None
    return notes


def _note(entry: Mapping[str, Any]) -> Note:
    unknown = set(entry) - _KEYS
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for key in ("stack", "lab", "step", "why"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise ValueError(f"{key} must be a non-empty string")
    re.compile(entry["step"])
    changes = entry.get("changes")
    if changes is not None:
        re.compile(str(changes))
    return Note(entry["stack"], entry["lab"], entry["step"], entry["why"].strip(), changes)


def differences(
    base: Transcript,
    other: Transcript,
    stack: str,
    notes: Sequence[Note],
    recipe_dirs: Iterable[Path] = (),
) -> list[Difference]:
    """Every step of `other` (a run on `stack`) that differs from `base`, each with its note."""
    from generator.compare.for_transcript import recipe_for
    from generator.compare.stackdrift import drifts

    lab = base.header.recipe or ""
    recipe = recipe_for(base.header, recipe_dirs)
    titles = (stacks.title_of(stacks.stack_of(base)), stacks.title_of(stack))
    found = []
    for drift in drifts(base, other, recipe, titles):
        note = next((n for n in notes if n.explains(stack, lab, drift)), None)
        lines = tuple(changed_lines(drift))
        found.append(Difference(stack, lab, drift.index, drift.command, drift.reasons, lines, note))
    return found


def of_set(
    base: Transcript,
    found: stacks.StackSet,
    notes: Sequence[Note],
    recipe_dirs: Iterable[Path] = (),
) -> dict[str, list[Difference]]:
    """The differences of every other stack's run of the base run's lab, by stack."""
    if stacks.stack_of(base) != found.base:
        return {}
    out = {}
    for stack in found.others:
        other = found.run(stack, base.header.recipe)
        if other is not None:
            out[stack] = differences(base, other, stack, notes, recipe_dirs)
    return out


def for_page(
    base: Transcript,
    found: stacks.StackSet,
    notes: Sequence[Note],
    recipe_dirs: Iterable[Path] = (),
) -> dict[str, Any]:
    """The LabPage fields of a base run: the stacks its lab holds on, and how the others differ."""
    from generator.pages.model import OtherStack, StackDifference

    recipe = base.header.recipe
    if not recipe or stacks.stack_of(base) != found.base:
        return {}
    found_differences = of_set(base, found, notes, recipe_dirs)
    anchors = {(s.index, s.command): f"step-{s.index}" for s in base.main_steps}
    others = []
    for name in found.others:
        run = found.run(name, recipe)
        kinds = []
        for why, items in grouped(found_differences.get(name, [])):
            steps = tuple(
                (d.index, d.first_line, anchors.get((d.index, d.command), "")) for d in items
            )
            reasons = () if why else items[0].reasons
            kinds.append(StackDifference(why, steps, reasons))
        recorded = versions(run) if run is not None else ""
        title = stacks.title_of(name)
        others.append(OtherStack(title, stacks.held(run), recorded, tuple(kinds)))
    own = ((stacks.title_of(found.base), stacks.held(base)),)  # this run, not the latest
    return {"stacks": own + found.verdicts(recipe)[1:], "other_stacks": tuple(others)}


def versions(run: Transcript) -> str:
    """`Docker 26.1.5, iproute2 6.15.0, busybox 1.37.0`: what the run's stack is made of."""
    facts = run.header.facts
    found = [
        ("Docker", re.match(r"[0-9][^+~\s]*", facts.docker)),
        ("iproute2", re.search(r"iproute2-([^,\s]+)", facts.iproute2)),
        ("busybox", re.search(r"v([0-9][^\s]*)", facts.busybox)),
    ]
    said = [f"{name} {m.group(m.lastindex or 0)}" for name, m in found if m]
    return ", ".join(said) or "versions not recorded"


def grouped(found: Sequence[Difference]) -> list[tuple[str, tuple[Difference, ...]]]:
    """(why, its differences) in step order, the unexplained ones last, one entry each."""
    explained: dict[str, list[Difference]] = {}
    for difference in found:
        if difference.note is not None:
            explained.setdefault(difference.why, []).append(difference)
    out = [(why, tuple(items)) for why, items in explained.items()]
    return out + [("", (d,)) for d in found if d.note is None]


def _literal(text: str) -> str:
    """The text as a regex that finds it, its punctuation escaped (spaces left as they are)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def unexplained_message(difference: Difference) -> str:
    """What the test says of a drift no note explains: where, what changed, and the fix."""
    shown = "\n".join(f"    {line}" for line in difference.lines[:12])
    return (
        f"{difference.lab} on {difference.stack}, step {difference.index} "
        f"({difference.first_line!r}): {'; '.join(difference.reasons)}\n{shown}\n"
        f"  explain it in docs/stacks.toml:\n"
        f'  [[difference]]\n  stack = "{difference.stack}"\n  lab = "{difference.lab}"\n'
        f"  step = '{_literal(difference.first_line)}'\n"
        f'  why = "..."  # what differs on {difference.stack}, and why a reader should know\n'
        "  or fix the recipe so that the step holds on both stacks"
    )
