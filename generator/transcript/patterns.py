"""A recipe's own regexes, as [[normalize]] and [[secret]] tables give them: compiled once, with
one error for a bad one."""

from __future__ import annotations

import re


class PatternError(ValueError):
    """A recipe's [[normalize]] or [[secret]] entry that cannot be used; the message says which
    and why."""


def compile_pattern(pattern: str, where: str) -> re.Pattern[str]:
    """A recipe's regex ([[normalize]] in generator/compare/normalize.py, [[secret]] in
    generator/transcript/redact.py). One that matches the empty string would match at every
    position, so it is refused."""
    try:
        compiled = re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise PatternError(f"{where}: bad regex {pattern!r}: {exc}") from None
    if compiled.search(""):
        raise PatternError(f"{where}: pattern {pattern!r} matches the empty string")
    return compiled
