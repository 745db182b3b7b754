"""Text a transcript or a remote host controls, made safe to print on a terminal; and counts
said right (plural).

A recorded `\\x1b[2K\\r` or a U+202E can make a step read `ip netns list` on screen while it is
something else. Every place recipe prints recorded or remote text to a terminal passes it
through visible(): control characters, bidi overrides and other invisible format characters
show as `\\x1b`, `\\r`, `\\u202e`. Newline and tab stay where the layout needs them. Products
that must stay exact (a cast, JSON, a transcript) never pass through here.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL and C1; the bidi marks, embeddings, overrides and isolates;
# zero-width and invisible format characters; line/paragraph separators; lone surrogates; tags.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
_UNSAFE_LINE = re.compile(_UNSAFE.pattern[:-1] + "\n]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\x1b": "\\x1b", "\x00": "\\x00"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return _escape_code(ord(char))


# How much of a rejected value an error line echoes back.
SHOWN = 60


def shown(text: str, limit: int = SHOWN, *, quote: bool = False) -> str:
    """A value as a one-line error may echo it: printable text as it is; anything else in quotes
    with backslash, quote and every unsafe character escaped; never more than `limit` characters
    of it, so a 100 kB value or one with escape codes cannot flood or rewrite the screen.
    quote=True quotes plain text too, where a bare word would read as part of the sentence."""
    cut = text[:limit]
    rest = len(text) - len(cut)
    if not quote and cut.isprintable() and cut.strip() == cut and not rest:
        return cut
    quoted = "".join(ch if ch.isprintable() and ch not in "'\\" else _quoted(ch) for ch in cut)
    return f"'{quoted}'" + (f"... ({len(text)} characters)" if rest else "")


def _quoted(char: str) -> str:
    if char in "'\\":
        return "\\" + char
    return _NAMED.get(char) or _escape_code(ord(char))


def _escape_code(code: int) -> str:
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def visible(text: str, *, one_line: bool = False) -> str:
    """TEXT with every character that could hide or rewrite what a terminal shows escaped;
    one_line=True escapes newlines too, for text that must stay on its line."""
    return (_UNSAFE_LINE if one_line else _UNSAFE).sub(_escape, text)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 step`, `2 steps`, `0 steps`; MANY for a noun whose plural is not NOUN + s
    (`plural(n, "directory", "directories")`)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
