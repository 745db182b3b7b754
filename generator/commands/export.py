"""`recipe export`: a transcript as an asciicast v2 recording."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from generator.commands.choices import Choice, choice_option
from generator.commands.library import recipe_dirs
from generator.errors import UserError


class Format(Choice):
    CAST = "cast"


def export(
    ctx: typer.Context,
    transcript: Annotated[Path, typer.Argument(help="A transcript written by recipe run.")],
    format_: Annotated[
        Format, choice_option(Format, "--format", help="Output format: cast (asciicast v2).")
    ] = Format.CAST,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write [default: stdout].")
    ] = None,
    typing: Annotated[
        bool,
        typer.Option(
            "--typing", help="Type each command a character at a time, instead of at once."
        ),
    ] = False,
) -> None:
    """Turn a transcript into an asciicast v2 recording that asciinema can play."""
    from generator import transcript as transcript_format
    from generator.compare.for_transcript import redacted
    from generator.transcript import cast

    if output is not None:
        _check_output(output)  # before the work, and with a fix, not a bare strerror
    lab = redacted(transcript_format.read(transcript), recipe_dirs(ctx))
    text = cast.to_cast(lab, typing=typing)
    if output is None:
        sys.stdout.write(text)
        return
    from generator import atomicfile

    try:
        atomicfile.write_text(output, text)  # whole or not at all; a symlink there is replaced
    except OSError as exc:
        raise UserError(f"-o {output}: cannot write it: {exc.strerror or exc}") from None


def _check_output(output: Path) -> None:
    if output.is_dir():
        raise UserError(
            f"-o {output}: is a directory; name a file in it, e.g. {output / 'lab.cast'}"
        )
    parent = output.parent
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a directory"
        raise UserError(f"-o {output}: directory {parent} {what}; create it or choose another path")
    if not os.access(parent, os.W_OK) and not output.exists():
        raise UserError(f"-o {output}: cannot write in {parent} (permission denied)")


def register(app: typer.Typer) -> None:
    app.command()(export)
