"""Options of a fixed set of words: help lists them, any case is taken, a typo gets one line with
the closest word (generator/commands/choices.py)."""

from __future__ import annotations

import pytest
import typer

from generator.commands.choices import Choice, parse_choice, words
from generator.commands.replay import Color
from tests.cli_runner import assert_one_line_error, invoke, recipe


class Shade(Choice):
    LIGHT = "light"
    DARK = "dark"


def test_a_word_in_any_case_is_its_member() -> None:
    assert parse_choice(Shade, "DARK") is Shade.DARK
    assert parse_choice(Shade, Shade.LIGHT) is Shade.LIGHT
    assert str(Shade.DARK) == "dark" and isinstance(Shade.DARK, str)
    assert words(Shade) == ["light", "dark"]


def test_a_typo_names_the_words_and_the_closest() -> None:
    with pytest.raises(typer.BadParameter) as raised:
        parse_choice(Shade, "drak")
    assert raised.value.message == "'drak' is not one of light, dark; did you mean 'dark'?"


def test_nothing_close_suggests_nothing() -> None:
    with pytest.raises(typer.BadParameter) as raised:
        parse_choice(Shade, "zzzzzz")
    assert "did you mean" not in raised.value.message


@pytest.mark.parametrize("how", [invoke, recipe], ids=["clirunner", "process"])
@pytest.mark.parametrize(
    ("args", "closest"),
    [
        (("diff", "a", "b", "--color", "alwys"), "always"),
        (("replay", "a", "--color", "nevr"), "never"),
        (("export", "a", "--format", "cats"), "cast"),
    ],
)
def test_a_mistyped_choice_is_one_line_with_a_suggestion(
    args: tuple[str, ...], closest: str, how: object
) -> None:
    assert callable(how)
    assert_one_line_error(how(*args), args[-2], f"did you mean {closest!r}?")


@pytest.mark.parametrize(
    ("command", "listed"),
    [("diff", "<auto|always|never>"), ("replay", "<auto|always|never>"), ("export", "<cast>")],
)
def test_help_lists_the_words(command: str, listed: str) -> None:
    done = invoke(command, "--help")
    assert done.returncode == 0
    assert listed in done.stdout


def test_the_command_gets_the_member() -> None:
    assert Color("always") is Color.ALWAYS
