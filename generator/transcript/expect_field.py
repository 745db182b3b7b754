"""A step's `expect:` field: JSON, checked as strictly as the script reader checks its
directives, so a runner never meets a value it cannot use."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from generator.transcript.expectation import Expectation, Shown
from generator.transcript.jsondepth import deeper_than
from generator.transcript.records import TranscriptError
from generator.visible import shown

_EXPECT_KEYS = frozenset({"exit", "output", "no_output", "match", "shown"})
_SHOWN_KEYS: dict[str, type | tuple[type, ...]] = {
    "block": int,
    "line": int,
    "command": str,
    "output": (str, type(None)),
    "compare": bool,
    "skip": str,
}
_EXIT_WORDS = ("nonzero", "any")
_LISTS = ("output", "no_output", "match")
# An expectation is an object of lists of strings or objects, three levels; json.loads recurses
# once a level, so a line nested 100,000 deep would end in RecursionError. Deeper is refused.
_MAX_DEPTH = 3


def decode(text: str, fail: Callable[[str], TranscriptError]) -> Expectation:
    """The `expect:` JSON, checked as strictly as the script reader checks its directives, so
    a runner never meets a value it cannot use (a bad regex, a fractional exit status)."""
    if deeper_than(text, _MAX_DEPTH):
        raise fail("expect: nested too deep; it is an object of lists")
    try:
        data = json.loads(text)
    except ValueError as exc:  # also the 4,300-digit limit of int()
        raise fail(f"expect: not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise fail('expect: must be a JSON object, e.g. {"exit": 0}')
    unknown = sorted(set(data) - _EXPECT_KEYS)
    if unknown:
        raise fail(f"expect: unknown key {shown(unknown[0], quote=True)}")
    exit_value = data.get("exit", 0)
    if not (_is_status(exit_value) or exit_value in _EXIT_WORDS):
        raise fail(
            f"expect: exit must be a whole number from 0 or one of {_EXIT_WORDS}, "
            f"got {shown(str(exit_value), quote=True)}",
        )
    lists = {key: _strings(fail, data.get(key, []), key) for key in _LISTS}
    for pattern in lists["match"]:
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            message = f"expect: bad regex {shown(pattern, quote=True)} in match: {exc}"
            raise fail(message) from None
    shown_items = _shown(fail, data.get("shown", []))
    return Expectation(exit_value, lists["output"], lists["no_output"], lists["match"], shown_items)


def _shown(fail: Callable[[str], TranscriptError], value: object) -> tuple[Shown, ...]:
    """A tutorial step's page outputs: objects of exactly the known keys and types."""
    if not isinstance(value, list):
        raise fail("expect: shown must be a list of objects")
    items = []
    for item in value:
        if not isinstance(item, dict) or not {"block", "line", "command", "output"} <= set(item):
            raise fail("expect: each shown item needs block, line, command and output")
        for key, kind in item.items():
            wanted = _SHOWN_KEYS.get(key)
            if wanted is None:
                raise fail(f"expect: shown: unknown key {shown(key, quote=True)}")
            if not isinstance(kind, wanted) or (wanted is int and not _is_status(kind)):
                raise fail(f"expect: shown: {key} has the wrong type")
        items.append(
            Shown(
                item["block"],
                item["line"],
                item["command"],
                item["output"],
                item.get("compare", True),
                item.get("skip", ""),
            )
        )
    return tuple(items)


def _strings(fail: Callable[[str], TranscriptError], value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(f"expect: {key} must be a list of strings")
    return tuple(value)


def _is_status(value: object) -> bool:
    # bool is an int to Python, and `true` is no exit status.
    return type(value) is int and 0 <= value < 10**9
