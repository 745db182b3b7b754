"""The `recipe` command line: a thin Typer app; each command group lives in generator/commands/."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from generator.commands import library
from generator.errors import UserError


class RecipeGroup(TyperGroup):
    """The app's click group. Its main() maps every error to one line and an exit code, and both
    the console script and typer.testing.CliRunner go through it, so tests see what users see."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        # Not argv[0]: `python -c` would make it `-c`, and shell completion reads $_RECIPE_COMPLETE.
        kwargs.setdefault("prog_name", "recipe")
        if os.environ.get("_RECIPE_COMPLETE"):  # a completion script asks; click answers it
            from typer._completion_classes import completion_init

            completion_init()
        try:
            code = super().main(*args, **kwargs)
        except UserError as exc:
            _fail(exc.message, exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            _fail("interrupted", 130)
        except BrokenPipeError:
            # `recipe render x | head`: the reader left; that is not an error worth a word.
            sys.stderr.close()
            sys.exit(1)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", 2)
        except TyperException as exc:  # click's usage errors, from Typer's own copy of click
            _usage(exc)
        if isinstance(code, int) and code:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=RecipeGroup,
    name="recipe",
    help="Reproducible Linux and Docker networking labs: render, run, record, replay, document.",
    no_args_is_help=True,
    add_completion=False,  # `recipe completion SHELL` prints the script; no dotfile is edited
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version() -> str:
    """The installed distribution's version; the package's own outside an installation."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("recipe")
    except PackageNotFoundError:
        from generator import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        print(f"recipe {version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    recipes: Annotated[
        list[Path] | None,
        typer.Option(
            "--recipes",
            help="Extra directory of recipes (repeatable); also $RECIPE_PATH.",
            show_default=False,
        ),
    ] = None,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    ctx.obj = {"recipe_dirs": list(recipes or [])}


library.register(app)


def _register_the_rest() -> None:
    """Every other command group; each module's register(app) adds its commands. A module that
    is missing or broken is an ImportError here, never a command that silently vanishes."""
    from generator.commands import (
        completion,
        docs,
        export,
        hosts,
        image,
        reach,
        record,
        replay,
        run,
        state,
    )

    for module in (image, run, export, hosts, replay, state, reach, docs, record, completion):
        module.register(app)


# `recipe list|show|render` need only generator/commands/library.py. Skipping the other groups
# there keeps the runner, SSH and docs plumbing out of the render start-up, which must stay near
# a bare Typer app (bench/render_startup.py). Only for the console script, whose argv is ours:
# an importer (pytest, CliRunner, `python -c`) always gets every command.
_LIBRARY_COMMANDS = frozenset({"list", "show", "render"})


def _invoked_command(argv: list[str]) -> str | None:
    """The command word of a `recipe ...` command line, past the global options."""
    args = iter(argv)
    for arg in args:
        if arg == "--recipes":
            next(args, None)  # its value
        elif not arg.startswith("-"):
            return arg
    return None


_LIBRARY_ONLY = (
    Path(sys.argv[0]).name == "recipe" and _invoked_command(sys.argv[1:]) in _LIBRARY_COMMANDS
)
if not _LIBRARY_ONLY:
    _register_the_rest()


def main() -> None:
    """Console entry point (errors are mapped in RecipeGroup.main)."""
    app()
    if _LIBRARY_ONLY:
        # What is alive now dies with the process, which holds nothing outside itself. Freezing
        # it spares the interpreter's final garbage collection: a sixth of a cold `recipe render`
        # (bench/render_startup.py). Output is still flushed at exit.
        import gc

        gc.freeze()


def _fail(message: str, code: int) -> NoReturn:
    print(f"recipe: {message}", file=sys.stderr)
    sys.exit(code)


def _usage(exc: TyperException) -> NoReturn:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        print(ctx.get_help())
        sys.exit(0)
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    _fail(f"{message}{hint}", int(getattr(exc, "exit_code", 2)))
