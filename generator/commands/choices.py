"""Options that take one word of a fixed set: an Enum whose help lists the words, whose shell
completion offers them, and whose typo gets `did you mean 'html'?` in the one-line error.

    class Format(Choice):
        MD = "md"
        HTML = "html"

    FormatOption = Annotated[Format, choice_option(Format, "--format", "-f", help="Page format.")]

    def docs(fmt: FormatOption = Format.MD) -> None: ...

The command receives a Format member (a str too: `fmt == "md"` holds). Click's own Choice error
names the words but suggests none, hence the parser here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from generator.errors import did_you_mean

C = TypeVar("C", bound="Choice")


class Choice(enum.StrEnum):
    """A word of a fixed set; the member's value is what the user types."""


def words(kind: type[Choice]) -> list[str]:
    """The words a choice takes, in declaration order."""
    return [member.value for member in kind]


def parse_choice(kind: type[C], text: str | C) -> C:
    """TEXT as a member of KIND (any case), or typer.BadParameter naming the words and the
    closest one; Typer adds the option's name in front."""
    if isinstance(text, kind):
        return text
    for member in kind:
        if member.value == str(text) or member.value.casefold() == str(text).casefold():
            return member
    known = ", ".join(words(kind))
    raise typer.BadParameter(
        f"{text!r} is not one of {known}{did_you_mean(str(text), words(kind))}"
    )


def parser(kind: type[C]) -> Callable[[str | C], C]:
    """The parser callback for typer.Option(parser=...) of a choice."""

    def parse(text: str | C) -> C:
        return parse_choice(kind, text)

    return parse


def choice_option(kind: type[Choice], *param_decls: str, help: str, **extra: Any) -> Any:
    """typer.Option for an Annotated[KIND, ...] parameter; help shows `<md|html|cast>`."""
    return typer.Option(*param_decls, help=help, parser=parser(kind), **extra)
