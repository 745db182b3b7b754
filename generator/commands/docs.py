"""`recipe docs` and `recipe claims`: pages from transcripts, and the walkthrough's claims
checked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from generator.commands.library import recipe_dirs


def docs(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Transcript files or directories of them.", show_default=False),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write the pages into.")
    ] = Path("."),
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="md (GitHub Markdown), html (self-contained) or cast."),
    ] = "md",
    normalized: Annotated[
        bool,
        typer.Option(
            "--normalized", help="Show placeholders (MAC#1, <RTT>) instead of recorded values."
        ),
    ] = False,
    index: Annotated[
        bool,
        typer.Option(
            "--index", help="Also write an index page: README.md, or index.html for html."
        ),
    ] = False,
    project: Annotated[
        bool,
        typer.Option("--project", help="Rebuild docs/labs/ and docs/claims.md from transcripts/."),
    ] = False,
) -> None:
    """Write one page per transcript: recipe docs transcripts/ -o pages --format html --index"""
    from generator.errors import UserError

    if project:
        if paths:
            raise UserError("--project reads transcripts/ itself; give no PATH with it")
        from generator.pages.project import build

        for path in build():
            print(path)
        return
    if not paths:
        raise UserError("give transcript files or directories, or --project")
    from generator.pages.write import write

    for item in write(paths, out, fmt, recipe_dirs(ctx), normalized=normalized, index=index):
        print(item.path)


def claims(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or directories of them.")],
    data: Annotated[
        Path | None, typer.Option("--claims", help="Claim definitions (default: docs/claims.toml).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the page here instead of stdout.")
    ] = None,
) -> None:
    """Check the walkthrough's claims against transcripts and write the verdicts as Markdown."""
    from generator.compare.for_transcript import redacted
    from generator.pages.claims import DEFAULT_DATA, check_all, load_claims, render
    from generator.pages.model import assign_slugs
    from generator.transcript import read
    from generator.transcript.files import find

    defined = load_claims(data or DEFAULT_DATA)
    transcripts = [redacted(read(p), recipe_dirs(ctx)) for p in find(paths)]
    text = render(
        check_all(defined, transcripts), labs_link="labs/", slugs=assign_slugs(transcripts)
    )
    if out is None:
        sys.stdout.write(text)
    else:
        from generator import atomicfile

        atomicfile.write_text(out, text)  # a reader of the page never sees half of it
        print(out)


def register(app: typer.Typer) -> None:
    app.command()(docs)
    app.command()(claims)
