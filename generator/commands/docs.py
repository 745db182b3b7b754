"""`recipe docs` and `recipe claims`: pages from transcripts, and the walkthrough's claims
checked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from generator.commands.choices import Choice, choice_option
from generator.commands.library import recipe_dirs


class Format(Choice):
    MD = "md"
    HTML = "html"
    CAST = "cast"


def docs(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Transcript files or directories of them.", show_default=False),
    ] = None,
    out: Annotated[
        Path, typer.Option("--output", "-o", help="Directory to write the pages into.")
    ] = Path("."),
    fmt: Annotated[
        Format,
        choice_option(
            Format, "--format", "-f", help="md (GitHub Markdown), html (self-contained) or cast."
        ),
    ] = Format.MD,
    site: Annotated[
        Path | None,
        typer.Option(
            "--site",
            help="Write a browsable site into DIR instead: pages, index, claims, casts, player.",
            show_default=False,
        ),
    ] = None,
    typing: Annotated[
        bool, typer.Option("--typing", help="In casts, type each command a key at a time.")
    ] = False,
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
        if paths or site:
            raise UserError("--project reads transcripts/ and writes docs/ itself; give no PATH")
        from generator.pages.project import build, checkout

        for path in build(checkout("recipe docs --project")):
            print(path)
        return
    if site is not None:
        _site(ctx, paths or [], site)
        return
    if not paths:
        raise UserError("give transcript files or directories, or --project, or --site DIR")
    from generator.pages.write import write

    written = write(
        paths, out, fmt.value, recipe_dirs(ctx), normalized=normalized, index=index, typing=typing
    )
    for item in written:
        print(item.path)


def _site(ctx: typer.Context, paths: list[Path], out: Path) -> None:
    """The site of the given transcripts, or of the checkout's goldens with its claims page."""
    from generator.errors import UserError
    from generator.pages import project, site

    claims_data = None
    if not paths:  # the goldens: the claims are checked against them, as docs/claims.md is
        root = project.checkout("recipe docs --site DIR with no PATH")
        paths = [root / project.TRANSCRIPTS]
        claims_data = root / project.CLAIMS_DATA
    if out.exists() and not out.is_dir():
        raise UserError(f"--site {out}: is not a directory; name a folder for the site")
    for path in site.build(paths, out, recipe_dirs(ctx), claims_data):
        print(path)


def claims(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or directories of them.")],
    data: Annotated[
        Path | None, typer.Option("--claims", help="Claim definitions (default: docs/claims.toml).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the page here instead of stdout.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the verdicts per stack as JSON on stdout.")
    ] = False,
) -> None:
    """Check the walkthrough's claims on every stack and write the verdicts as Markdown: exit 0
    when each claim expected to hold holds on every stack that recorded it, 1 when one does not.
    A folder's stacks/STACK/ subfolders hold the other stacks' runs."""
    from generator.compare.for_transcript import redacted
    from generator.pages.claims import as_json as claims_json
    from generator.pages.claims import check_all, load_claims
    from generator.pages.claims_page import render
    from generator.pages.model import assign_slugs
    from generator.pages.write import stack_runs
    from generator.transcript import read
    from generator.transcript.files import find

    if as_json and out is not None:
        from generator.errors import UserError

        raise UserError("--json prints to stdout; give --json or --output, not both")
    if data is None:
        from generator.pages.project import CLAIMS_DATA, checkout

        data = checkout("recipe claims without --claims FILE") / CLAIMS_DATA
    defined = load_claims(data)
    dirs = recipe_dirs(ctx)
    transcripts = [redacted(read(p), dirs) for p in find(paths)]
    table = check_all(defined, [*transcripts, *stack_runs(paths, dirs)])
    if as_json:
        from generator.commands.library import print_json

        print_json(claims_json(table))
    else:
        text = render(table, labs_link="labs/", slugs=assign_slugs(transcripts))
        _page(text, out)
    for failed in table.failures:
        print(f"{failed.claim.id}: does not hold on {failed.stack or 'its stack'}", file=sys.stderr)
    if table.failures:
        raise SystemExit(1)


def _page(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        from generator import atomicfile

        atomicfile.write_text(out, text)  # a reader of the page never sees half of it
        print(out)


def register(app: typer.Typer) -> None:
    app.command()(docs)
    app.command()(claims)
