"""`recipe list | show | render`: browse the recipe library and render scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from generator.recipes import catalog as library
from generator.recipes.params import display


def recipe_dirs(ctx: typer.Context) -> list[Path]:
    obj = ctx.find_root().obj or {}
    return list(obj.get("recipe_dirs", []))


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", "-s", help="Set a parameter: --set key=value (repeatable).", show_default=False
    ),
]


def list_recipes(ctx: typer.Context) -> None:
    """Print each recipe's name and what it shows."""
    found = library.load_all(recipe_dirs(ctx))
    width = max((len(r.name) for r in found), default=0)
    for recipe in sorted(found, key=lambda r: r.name):
        print(f"{recipe.name:<{width}}  {recipe.summary}")


def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Recipe name.")]) -> None:
    """Print a recipe's description, parameters with defaults, and the topology it builds."""
    from generator.recipes.topology import describe, render_topology

    recipe = library.load(name, recipe_dirs(ctx))
    values = library.resolve(recipe, {})
    print(f"{recipe.name}: {recipe.title}\n")
    print(recipe.description + "\n")
    if recipe.hosts:
        print(f"Hosts: {', '.join(recipe.hosts)}\n")
    print("Parameters:")
    width = max((len(p.name) for p in recipe.params), default=0)
    for spec in recipe.params:
        print(
            f"  {spec.name:<{width}}  {spec.type:<9} "
            f"default {display(values[spec.name])!s:<18} {spec.help}"
        )
    topology = render_topology(recipe.directory, values)
    if topology:
        print("\nTopology (with default parameters):")
        for line in describe(topology):
            print(f"  {line}")


def render(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Recipe name.")],
    set_: SetOption = None,
    sudo: Annotated[
        bool, typer.Option("--sudo", help="Prefix commands that need root with sudo.")
    ] = False,
    no_teardown: Annotated[
        bool, typer.Option("--no-teardown", help="Leave the lab standing: omit the teardown.")
    ] = False,
) -> None:
    """Write the lab's shell script to stdout: recipe render custom-bridge > lab.sh"""
    from generator.recipes.render import render_script

    recipe = library.load(name, recipe_dirs(ctx))
    values = library.resolve(recipe, library.parse_assignments(set_ or []))
    sys.stdout.write(render_script(recipe, values, sudo=sudo, teardown=not no_teardown))


def register(app: typer.Typer) -> None:
    app.command("list")(list_recipes)
    app.command()(show)
    app.command()(render)
