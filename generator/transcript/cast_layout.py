"""What a cast's terminal looks like: the prompt of the host a step ran on, and a screen size that
fits the recording. Text is measured in terminal cells, so a wide character counts two."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable

from generator.transcript.facts import HostFacts
from generator.visible import visible

MIN_WIDTH, MAX_WIDTH = 80, 200  # beyond MAX_WIDTH the player wraps, as a real terminal does
MIN_HEIGHT, MAX_HEIGHT = 24, 40
NAME_CELLS = 64  # a hostname is at most 64 bytes; a longer recorded one is cut, not trusted

# Escape sequences a recorded output may hold take no cells: CSI (colours, cursor moves), OSC
# (titles) up to BEL or ST, and two-byte escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")


def host_names(facts: HostFacts) -> dict[str, str]:
    """ROLE -> hostname of a multi-host run, whose header records `host: ROLE=NAME,...`; empty
    for a run on one host, whose `host` is the name itself."""
    if "=" not in facts.host:
        return {}
    pairs = (item.partition("=") for item in facts.host.split(","))
    return {role: name for role, _, name in pairs if role}


def host_of(facts: HostFacts, role: str | None) -> str:
    """The name a reader knows the step's host by: its recorded hostname, else its role label.
    A step without a role ran on the first role's host (shell/multi.py)."""
    names = host_names(facts)
    if not names:
        return facts.host or role or "localhost"
    if role is None:
        return next(iter(names.values())) or next(iter(names))
    return names.get(role) or role


def prompt(facts: HostFacts, role: str | None) -> str:
    """`user@host:~# ` (`$` for a user other than root), as bash shows it. The names come from
    the transcript, so control characters show escaped: a hostile hostname cannot set the
    window title or move the cursor of whoever plays the cast."""
    user = _name(facts.user or "root")
    sign = "#" if user == "root" else "$"
    return f"{user}@{_name(host_of(facts, role))}:~{sign} "


def _name(text: str) -> str:
    shown = visible(text, one_line=True)
    return shown if len(shown) <= NAME_CELLS else shown[: NAME_CELLS - 1] + "…"


def char_cells(char: str) -> int:
    """Cells one character takes: 2 for East Asian wide and fullwidth, 0 for combining marks,
    format and control characters, 1 otherwise (what wcwidth says, without the dependency)."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Cf", "Cc", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cells(line: str) -> int:
    """Cells one line of terminal text spans. Escape sequences take none; a carriage return
    rewrites the line, so the widest stretch between them counts; a tab goes to the next stop."""
    widest = 0
    for stretch in _ESCAPES.sub("", line).split("\r"):
        column = 0
        for char in stretch:
            column = column + 8 - column % 8 if char == "\t" else column + char_cells(char)
        widest = max(widest, column)
    return widest


def width(lines: Iterable[str]) -> int:
    """The longest line, kept between MIN_WIDTH and MAX_WIDTH."""
    longest = max((cells(line) for line in lines), default=0)
    return max(MIN_WIDTH, min(MAX_WIDTH, longest))


def height(blocks: Iterable[list[str]], columns: int) -> int:
    """Rows for the tallest step (its prompt, command, explanation and output, long lines as
    the player wraps them) plus the next prompt, kept between MIN_HEIGHT and MAX_HEIGHT."""
    tallest = 0
    for lines in blocks:
        rows = sum(max(1, math.ceil(cells(line) / columns)) for line in lines)
        tallest = max(tallest, rows + 1)
    return max(MIN_HEIGHT, min(MAX_HEIGHT, tallest))
