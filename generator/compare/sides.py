"""How a comparison names its two sides. `recipe replay` compares a recording with the run it
just made: `in the recording`, `now`. `recipe diff A B` compares two recordings, neither of
them new: each is named by its file, so no line calls one of them replayed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sides:
    old: str = "the recording"  # the first side as a sentence names it
    new: str = "the replay"
    then: str = "in the recording"  # where the first side's value was seen
    now: str = "now"
    as_then: str = "as recorded"
    old_label: str = "recorded"  # short labels: diff headers, a placeholder's values, JSON
    new_label: str = "replayed"

    def changed(self, what: str, before: object, after: object) -> str:
        """`exit status 0 is now 1` for a replay; `... 0 in a.transcript, 1 in b.transcript`."""
        if self == REPLAY:
            return f"{what} {before} is now {after}"
        return f"{what} {before} {self.then}, {after} {self.now}"

    def placeholder(self, old: str, old_value: object, new: str, new_value: object) -> str:
        """A placeholder that changed in the same place: `IF#1 (recorded 12) is now IF#3
        (replayed 30)`; `IF#1 (12) in a.transcript, IF#3 (30) in b.transcript`."""
        if self == REPLAY:
            return f"{old} (recorded {old_value}) is now {new} (replayed {new_value})"
        return f"{old} ({old_value}) {self.then}, {new} ({new_value}) {self.now}"


REPLAY = Sides()


def between(first: Path, second: Path) -> Sides:
    """Two recordings named by their files: the base names when they differ, else the paths as
    given, else (one file twice) `first` and `second`."""
    a, b = first.name, second.name
    if a == b:
        a, b = (str(first), str(second)) if first != second else ("first", "second")
    return Sides(old=a, new=b, then=f"in {a}", now=f"in {b}", as_then=f"in {a}", old_label=a,
                 new_label=b)  # fmt: skip
