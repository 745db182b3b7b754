"""`recipe list | show | render`: browse the recipe library and render scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from generator.errors import UserError
from generator.recipes import catalog as library
from generator.recipes.params import display


def recipe_dirs(ctx: typer.Context) -> list[Path]:
    root = ctx.find_root()
    if root.obj is None:  # shell completion parses without running the app's callback
        return [Path(p) for p in root.params.get("recipes") or []]
    return list(root.obj.get("recipe_dirs", []))


def complete_recipe(ctx: typer.Context, incomplete: str) -> list[str]:
    """The recipe names that start with what is typed, for shell completion."""
    try:
        names = library.discover(recipe_dirs(ctx))
    except UserError:  # a --recipes folder that is not there: complete nothing
        return []
    return sorted(name for name in names if name.startswith(incomplete))


RecipeName = Annotated[str, typer.Argument(help="Recipe name.", autocompletion=complete_recipe)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print it as JSON on stdout.")]


def print_json(data: object) -> None:
    """The product of a --json command: one JSON document on stdout (docs/json.md)."""
    import json

    print(json.dumps(data, indent=2))


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", "-s", help="Set a parameter: --set key=value (repeatable).", show_default=False
    ),
]


def list_recipes(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Print each recipe's name and what it shows."""
    found = library.load_all(recipe_dirs(ctx))
    if as_json:
        print_json({"recipes": [_listed(r) for r in sorted(found, key=lambda r: r.name)]})
        return
    width = max((len(r.name) for r in found), default=0)
    for recipe in sorted(found, key=lambda r: r.name):
        print(f"{recipe.name:<{width}}  {recipe.summary}")


def _listed(recipe: library.Recipe) -> dict[str, object]:
    return {
        "name": recipe.name,
        "title": recipe.title,
        "summary": recipe.summary,
        "hosts": list(recipe.hosts),
        "docker": recipe.docker,
    }


def show(ctx: typer.Context, name: RecipeName, as_json: JsonOption = False) -> None:
    """Print a recipe's description, parameters with defaults, and the topology it builds."""
    from generator.recipes.topology import describe, render_topology

    recipe = library.load(name, recipe_dirs(ctx))
    values = library.resolve(recipe, {})
    if as_json:
        print_json(_shown(recipe, values, render_topology(recipe.directory, values)))
        return
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


def _shown(
    recipe: library.Recipe, values: dict[str, Any], topology: dict[str, Any]
) -> dict[str, object]:
    """`recipe show --json`: the schema is docs/schemas/show.json."""
    params = [
        {
            "name": spec.name,
            "type": spec.type,
            "default": _json_value(values[spec.name]),
            "help": spec.help,
            "min": spec.min,
            "max": spec.max,
            "choices": list(spec.choices),
        }
        for spec in recipe.params
    ]
    return {
        **_listed(recipe),
        "description": recipe.description,
        "requires": list(recipe.requires),
        "timeout": recipe.timeout,
        "params": params,
        "topology": topology or None,
    }


def _json_value(value: object) -> object:
    """A parameter's value as JSON holds it: numbers and booleans as such, the rest as the text
    --set takes (an address, a network)."""
    if isinstance(value, bool | int):
        return value
    return display(value)


def render(
    ctx: typer.Context,
    name: RecipeName,
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
