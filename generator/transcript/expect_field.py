"""A step's `expect:` field: JSON, checked as strictly as the script reader checks its
directives, so a runner never meets a value it cannot use."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from generator.transcript.expectation import Expectation
from generator.transcript.jsondepth import deeper_than
from generator.transcript.records import TranscriptError
from generator.visible import shown

_EXPECT_KEYS = frozenset({"exit", "output", "no_output", "match"})
_EXIT_WORDS = ("nonzero", "any")
_LISTS = ("output", "no_output", "match")
# An expectation is an object of lists of strings, two levels; json.loads recurses once a level,
# so a line nested 100,000 deep would end in RecursionError. Deeper than this is refused first.
_MAX_DEPTH = 2


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
    return Expectation(exit_value, lists["output"], lists["no_output"], lists["match"])


def _strings(fail: Callable[[str], TranscriptError], value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(f"expect: {key} must be a list of strings")
    return tuple(value)


def _is_status(value: object) -> bool:
    # bool is an int to Python, and `true` is no exit status.
    return type(value) is int and 0 <= value < 10**9
