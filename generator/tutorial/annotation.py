"""recipe's annotations: HTML comments that GitHub hides, saying what the prose says.

`<!-- recipe: skip -->` (or `skip: why`), `expect-fail`, `expect-exit N`, `ignore-output`,
`teardown`, `on ROLE`, `timeout SECONDS`; several in one comment are separated by commas. Each
applies to the next block recipe runs. Any other `recipe:` word is a typo, refused with the
nearest known one.
"""

from __future__ import annotations

import difflib
import re

from generator.errors import UserError
from generator.visible import shown

KNOWN = ("skip", "expect-fail", "expect-exit", "ignore-output", "teardown", "on", "timeout")
_TAKES_VALUE = {"expect-exit": r"\d{1,3}", "on": r"[A-Za-z0-9_.-]+", "timeout": r"\d+(?:\.\d+)?"}
_ANNOTATION = re.compile(r"\s*recipe\b\s*(?P<sep>:?)\s*(?P<body>.*?)\s*", re.DOTALL | re.I)


def read(comment: str, source: str, line: int) -> list[str]:
    """The annotations in one comment's text; [] for a comment that is not recipe's."""
    found = _ANNOTATION.fullmatch(comment)
    if found is None:
        return []
    where = f"{source}:{line}"
    if not found.group("sep"):
        raise UserError(
            f"{where}: {shown(comment.strip())} is not an annotation; write <!-- recipe: NAME -->"
        )
    body = found.group("body")
    if not body:
        raise UserError(f"{where}: an empty recipe annotation; known: {', '.join(KNOWN)}")
    return [_one(part.strip(), where) for part in _parts(body)]


def _parts(body: str) -> list[str]:
    # `skip: needs the internet, really` keeps its reason whole.
    name = body.split(":", 1)[0].strip()
    if name == "skip" and ":" in body:
        return [body]
    return [part for part in body.split(",") if part.strip()]


def _one(part: str, where: str) -> str:
    name, _, value = part.partition(" ")
    if name.startswith("skip:") or name == "skip":
        return "skip" + (": " + part.split(":", 1)[1].strip() if ":" in part else "")
    if name not in KNOWN:
        close = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(KNOWN)}"
        raise UserError(f"{where}: unknown annotation {shown(name)}{hint}")
    pattern = _TAKES_VALUE.get(name)
    value = value.strip()
    if pattern is None and value:
        raise UserError(f"{where}: the annotation {name!r} takes no value, got {shown(value)}")
    if pattern is not None and not re.fullmatch(pattern, value):
        need = {"expect-exit": "a status 0-255", "on": "a host role", "timeout": "seconds"}[name]
        got = shown(value) if value else "nothing"
        raise UserError(f"{where}: the annotation {name!r} needs {need}, got {got}")
    if name == "expect-exit" and int(value) > 255:
        raise UserError(f"{where}: an exit status is 0-255, got {value}")
    return f"{name} {value}" if value else name


def value(notes: tuple[str, ...], name: str) -> str | None:
    """The value of annotation NAME among a block's (`""` when it has none), None when absent."""
    for note in notes:
        key, _, rest = note.partition(" ")
        if key == name or key == name + ":":
            return rest
        if name == "skip" and note.startswith("skip"):
            return note.partition(":")[2].strip()
    return None
