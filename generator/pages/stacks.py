"""The stacks a set of goldens was recorded on, and each stack's own runs.

A stack is a userland on this kernel (Docker, iproute2, iptables, busybox as one release ships
them; generator/hosts/stacks.py makes them). Pages may not load hosts/, so a stack is known
here by what a transcript says of itself:

- a transcript in `<folder>/stacks/<stack>/` is of that stack, whatever its facts say
  (`recipe replay transcripts/ --stack debian-13 --update` writes them there);
- any other one is of the stack its host facts name: "Debian GNU/Linux 13 (trixie)" is
  debian-13, titled "Debian 13" (the same names generator/hosts/stacks.py gives).

A folder's own transcripts are the base: the stack most of them name (debian-12 for the
goldens). Every other stack is compared with it (generator/pages/stack_notes.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.transcript import Transcript, files

FOLDER = "stacks"
HOLDS, FAILS, MISSING = "✔", "✘", "–"


def title_of(name: str) -> str:
    """What a page calls the stack: `Debian 13` for debian-13."""
    if not name:
        return "unnamed stack"
    word, _, version = name.partition("-")
    return f"{word.capitalize()} {version}".strip()


def stack_of(transcript: Transcript) -> str:
    """The stack a transcript was recorded on: its stacks/<stack>/ folder, else its facts."""
    path = Path(transcript.path)
    if path.parent.parent.name == FOLDER and path.parent.name:
        return path.parent.name
    return transcript.header.facts.stack


def _order(name: str) -> tuple[str, tuple[int, ...]]:
    word, _, version = name.partition("-")
    return (word, tuple(int(n) for n in re.findall(r"\d+", version)))


def held(transcript: Transcript | None) -> str:
    """✔ for a run that completed and passed, ✘ for any other, – for no run."""
    if transcript is None:
        return MISSING
    return HOLDS if transcript.complete and transcript.status == "passed" else FAILS


@dataclass(frozen=True)
class StackSet:
    """Transcripts by the stack they were recorded on; `base` first in `names`."""

    base: str
    runs: dict[str, tuple[Transcript, ...]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        others = sorted((n for n in self.runs if n != self.base), key=_order)
        return (self.base, *others) if self.base in self.runs else tuple(others)

    @property
    def others(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n != self.base)

    def run(self, stack: str, recipe: str | None) -> Transcript | None:
        """The latest run of the recipe on that stack; None when the stack has none."""
        found = [t for t in self.runs.get(stack, ()) if recipe and t.header.recipe == recipe]
        return max(found, key=lambda t: t.header.started) if found else None

    def verdicts(self, recipe: str | None) -> tuple[tuple[str, str], ...]:
        """(title, ✔ ✘ or –) per stack, in order: which stacks the lab holds on."""
        return tuple((title_of(n), held(self.run(n, recipe))) for n in self.names)


def group(transcripts: Iterable[Transcript]) -> StackSet:
    """The transcripts by stack; the base is the stack most of the ones outside stacks/ name."""
    runs: dict[str, list[Transcript]] = {}
    own: Counter[str] = Counter()
    for transcript in transcripts:
        name = stack_of(transcript)
        runs.setdefault(name, []).append(transcript)
        if Path(transcript.path).parent.parent.name != FOLDER:
            own[name] += 1
    ranked = sorted(own.items(), key=lambda item: (-item[1], _order(item[0])))
    base = ranked[0][0] if ranked else min(runs, key=_order, default="")
    return StackSet(base, {name: tuple(found) for name, found in runs.items()})


def stack_paths(paths: Sequence[Path]) -> list[Path]:
    """The transcripts in `<folder>/stacks/<stack>/` of every folder given, in name order."""
    found: list[Path] = []
    for path in paths:
        folder = path / FOLDER
        if not path.is_dir() or not folder.is_dir():
            continue
        for stack in sorted(p for p in folder.iterdir() if p.is_dir()):
            found += files.in_folder(stack)
    return found


def line(verdicts: Sequence[tuple[str, str]]) -> str:
    """`Debian 12 ✔, Debian 13 ✘`."""
    return ", ".join(f"{title} {mark}" for title, mark in verdicts)
