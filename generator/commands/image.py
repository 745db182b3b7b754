"""`recipe image build busybox`: make the images the labs need without a registry."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from generator.errors import UserError


def build(
    name: Annotated[str, typer.Argument(help="The image to build: busybox or busybox:TAG.")],
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even when the image is current.")
    ] = False,
) -> None:
    """Build a local busybox image from the host's busybox-static binary (docker import)."""
    from generator.hosts import images  # late: keeps docker plumbing off the `recipe render` path
    from generator.recipes.params import PARSERS, ParamError

    try:
        PARSERS["image"](name)
    except ParamError as exc:
        raise UserError(f"image name {name!r} {exc}") from None
    repo, _, tag = name.partition(":")
    if repo != images.BUILDABLE:
        raise UserError(
            f"cannot build {name}: only busybox is built offline; "
            "pull other images with docker pull"
        )
    result = images.build_busybox(f"{repo}:{tag or 'latest'}", force=force)
    state = "built" if result.built else "already up to date"
    print(f"{result.tag}: {state} ({result.version}; {result.image_id[:19]})", file=sys.stderr)


def register(app: typer.Typer) -> None:
    image_app = typer.Typer(
        help="Build the Docker images the labs need, offline.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    image_app.command("build")(build)
    app.add_typer(image_app, name="image")
