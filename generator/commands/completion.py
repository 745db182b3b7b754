"""`recipe completion bash|zsh|fish`: the shell's completion script, printed, never installed.

    recipe completion bash > ~/.local/share/bash-completion/completions/recipe
    recipe completion zsh > "${fpath[1]}/_recipe"
    recipe completion fish > ~/.config/fish/completions/recipe.fish

The script calls `recipe` back with $_RECIPE_COMPLETE set; RecipeGroup.main answers it with the
commands, options, choices and recipe names that fit the word being completed.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from generator.commands.choices import Choice, parser


class Shell(Choice):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


COMPLETE_VAR = "_RECIPE_COMPLETE"


def script(shell: Shell) -> str:
    """The completion script for SHELL, ending in a newline."""
    from typer._completion_shared import get_completion_script

    text = get_completion_script(prog_name="recipe", complete_var=COMPLETE_VAR, shell=shell.value)
    return text + "\n"


def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to complete in.", parser=parser(Shell))],
) -> None:
    """Print the shell's completion script; save it where the shell reads it (nothing is
    installed for you). Bash: recipe completion bash > /etc/bash_completion.d/recipe"""
    sys.stdout.write(script(shell))


def register(app: typer.Typer) -> None:
    app.command()(completion)
