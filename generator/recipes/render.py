"""Render a recipe's lab script: the header people read, the `#@` lines `recipe run` reads back,
the name guard, and the template's steps and teardown (quoted by generator/recipes/jinja.py)."""

from __future__ import annotations

import shlex
import textwrap
from collections.abc import Mapping
from typing import Any

from generator import __version__
from generator.recipes.catalog import Recipe
from generator.recipes.jinja import Raw, render_template
from generator.recipes.params import ParamValue, display
from generator.recipes.topology import render_topology
from generator.visible import plural


def _comment(text: str, width: int = 78) -> list[str]:
    return ["# " + line for line in textwrap.wrap(" ".join(text.split()), width - 2)]


def header(recipe: Recipe, values: Mapping[str, ParamValue], sudo: bool) -> Raw:
    """The header a reader sees first, plus the `#@` lines that `recipe run` reads back."""
    run = "bash lab.sh" if sudo else "sudo bash lab.sh   (as root: bash lab.sh)"
    lines = [f"# {recipe.name}: {recipe.title}", "#", *_comment(recipe.description), "#"]
    lines.append(f"# Rendered by recipe {__version__}. Parameters:")
    lines += [f"#   {k}={display(v)}" for k, v in values.items()] or ["#   (none)"]
    if recipe.hosts:
        lines += ["#", *_multi_host_howto(recipe.hosts), "#", f"#@ recipe {recipe.name}"]
    else:
        lines += [
            "#",
            f"# Run it:        {run}",
            "# Step by step:  recipe run lab.sh   (checks each step and always tears down)",
            "#",
            f"#@ recipe {recipe.name}",
        ]
    lines += [f"#@ param {k}={display(v)}" for k, v in values.items()]
    lines.append(f"#@ timeout {recipe.timeout:g}")
    if recipe.hosts:
        lines.append(f"#@ hosts {' '.join(recipe.hosts)}")
    return Raw("\n".join(lines))


def _multi_host_howto(hosts: tuple[str, ...]) -> list[str]:
    """A lab on several hosts cannot run under one bash: say how to run it instead."""
    flags = " ".join(f"--host {host}" for host in hosts)
    return [
        f"# Hosts:         {', '.join(hosts)}; each step names its host (#@ on HOST).",
        f"# Run it:        recipe run lab.sh {flags}",
        "#                (`recipe hosts up` makes docker-node1/2 on this machine)",
        "# By hand:       type each step, in order, in a root shell on the host it names.",
        "# Plain `bash lab.sh` refuses: it would run every step on one machine.",
    ]


def _host_guard(hosts: tuple[str, ...]) -> Raw:
    """The prelude line that stops `bash lab.sh` for a multi-host lab, before anything runs."""
    flags = " ".join(f"--host {host}" for host in hosts)
    message = (
        f"this lab runs on {plural(len(hosts), 'host')}; run it with: recipe run lab.sh {flags}"
    )
    why = "# One bash runs on one machine, and this lab's steps belong to several hosts."
    return Raw(f"{why}\nif :; then\n  echo {shlex.quote(message)} >&2\n  exit 2\nfi")


def render_script(
    recipe: Recipe,
    values: Mapping[str, ParamValue],
    *,
    sudo: bool = False,
    teardown: bool = True,
) -> str:
    """The bash script a person would type, with its teardown wired to run on exit."""
    context: dict[str, Any] = dict(values)
    context.update(
        recipe=recipe,
        header=header(recipe, values, sudo),
        sudo=Raw("sudo " if sudo else ""),
        with_teardown=teardown,
        host_guard=_host_guard(recipe.hosts) if recipe.hosts else Raw(""),
        name_guard=_name_guard(recipe, values, sudo),
    )
    return render_template(recipe.directory, recipe.template.name, context)


def _name_guard(recipe: Recipe, values: Mapping[str, ParamValue], sudo: bool) -> Raw:
    """Blocks of lines that stop the script when a name it creates is taken, one block per host
    role (see generator/recipes/guard.py): `#@ guard` for the one host, `#@ guard on ROLE` for
    each host of a multi-host lab, which `recipe run` runs on that host."""
    from generator.recipes import guard

    found = guard.claims(render_topology(recipe.directory, values))
    blocks = []
    for role, claims in guard.by_role(found).items():
        lines = "\n".join(guard.shell_lines(claims, "sudo " if sudo else ""))
        opening = f"#@ guard on {role}" if recipe.hosts and role else "#@ guard"
        blocks.append(f"{opening}\n{_GUARD_WHY}\n{lines}\n#@ end-guard")
    return Raw("\n\n".join(blocks))


_GUARD_WHY = (
    "# Stop before anything changes if a name this lab creates is taken: "
    "the teardown would remove it."
)
