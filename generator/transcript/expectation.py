"""What a step must do, as a script's `#@ expect-*` lines say and a transcript's `expect:` records:
an exit status, strings the output must or must not hold, patterns it must match. One checker,
problems(), serves the runner, replay and the walkthrough's claims."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Shown:
    """What a tutorial's page shows for one command of a step (format version 4): the block and
    line it stands at, the command as typed, and its output (None: the page shows none, as in a
    `bash` block). The run compares against it the way a reader would (compare/reader.py)."""

    block: int
    line: int
    command: str
    output: str | None
    compare: bool = True  # False: `<!-- recipe: ignore-output -->`, the output is only shown
    skip: str = ""  # why recipe did not run it ("outside the lab: ..."); "" when it ran

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"block": self.block, "line": self.line}
        data |= {"command": self.command, "output": self.output}
        if self.skip:
            data["skip"] = self.skip
        return data if self.compare else data | {"compare": False}


@dataclass(frozen=True)
class Expectation:
    """What a step must do. exit: 0, a number, "nonzero" or "any"."""

    exit: int | str = 0
    output: tuple[str, ...] = ()
    no_output: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    shown: tuple[Shown, ...] = ()  # a tutorial's step: what the page shows for its commands

    @property
    def expects_failure(self) -> bool:
        return self.exit == "nonzero" or (isinstance(self.exit, int) and self.exit != 0)

    def problems(self, exit_status: int, stdout: str, stderr: str) -> list[str]:
        """Every way the result contradicts the expectation; empty when it holds."""
        found: list[str] = []
        if self.exit == "nonzero" and exit_status == 0:
            found.append("expected to fail, but exited 0")
        elif isinstance(self.exit, int) and exit_status != self.exit:
            found.append(f"expected exit status {self.exit}, got {exit_status}")
        text = stdout + stderr
        found += [f"output lacks {s!r}" for s in self.output if s not in text]
        found += [f"output contains {s!r}" for s in self.no_output if s in text]
        found += [
            f"output does not match /{r}/"
            for r in self.match
            if not re.search(r, text, re.MULTILINE)
        ]
        return found

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"exit": self.exit}
        for key in ("output", "no_output", "match"):
            if getattr(self, key):
                data[key] = list(getattr(self, key))
        if self.shown:
            data["shown"] = [item.to_dict() for item in self.shown]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Expectation:
        exit_value = data.get("exit", 0)
        return cls(
            exit=exit_value if isinstance(exit_value, (int, str)) else 0,
            output=tuple(data.get("output", ()) or ()),  # type: ignore[arg-type]
            no_output=tuple(data.get("no_output", ()) or ()),  # type: ignore[arg-type]
            match=tuple(data.get("match", ()) or ()),  # type: ignore[arg-type]
        )
