"""How deep JSON text nests, read before json.loads: a crafted file nesting thousands deep
would otherwise end in a RecursionError, not in one line naming the file."""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def deeper_than(text: str, limit: int) -> bool:
    """Whether the text's arrays and objects, strings aside, nest more than `limit` deep."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to be deep at all
    depth = 0
    for char in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
