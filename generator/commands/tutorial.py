"""What `recipe run` and `recipe replay` take from a Markdown tutorial: the file read as a
script (generator/tutorial, lab/tutorial_script.py) and `--image FROM=TO`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from generator.errors import UserError
from generator.visible import shown

if TYPE_CHECKING:
    from generator.commands.run import Target

ImageOption = Annotated[
    list[str] | None,
    typer.Option(
        "--image",
        help="FROM=TO: run a tutorial's image FROM as the local image TO (e.g. alpine=busybox); "
        "the comparison reads TO in the output as FROM.",
        show_default=False,
    ),
]


def image_pairs(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    """--image FROM=TO values, checked: both sides image names, no option or shell text."""
    pairs = []
    for value in values or []:
        source, sep, local = value.partition("=")
        name = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?")
        if not sep:
            raise UserError(f"--image {shown(value)}: needs FROM=TO, e.g. --image alpine=busybox")
        if not name.fullmatch(source) or not name.fullmatch(local):
            raise UserError(
                f"--image {shown(value)}: FROM and TO must be image names like alpine or "
                "busybox:latest"
            )
        pairs.append((source, local))
    return tuple(pairs)


def is_tutorial(target: str) -> bool:
    return target.lower().endswith((".md", ".markdown", ".mdown"))


def tutorial_target(
    data: bytes, target: str, sets: list[str], images: tuple[tuple[str, str], ...]
) -> Target:
    from generator.commands.run import Target
    from generator.lab import script as script_format
    from generator.lab import tutorial_script
    from generator.tutorial import markdown

    if sets:
        raise UserError("--set works with a recipe name, not with a Markdown tutorial")
    text = script_format.decode(data, target)
    script = tutorial_script.to_script(markdown.parse(text, target), images)
    return Target(script, text, None, target)
