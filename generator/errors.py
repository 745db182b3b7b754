"""The one exception type that the CLI turns into a single clear line and an exit code, and the
`did you mean` such a line may end with."""

from __future__ import annotations

from collections.abc import Iterable


class UserError(Exception):
    """A problem with the user's input or environment, never a bug.

    The CLI prints ``message`` as one line on stderr and exits with ``exit_code``.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def closest(word: str, known: Iterable[str]) -> str | None:
    """The one of KNOWN a typo of WORD most likely meant, or None when none is close."""
    from difflib import get_close_matches

    found = get_close_matches(word, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`; did you mean 'html'?` to end an error line with, or "" when nothing is close."""
    match = closest(word, known)
    return f"; did you mean {match!r}?" if match is not None else ""
