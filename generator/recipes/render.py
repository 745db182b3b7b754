"""Render recipes: a Jinja environment where every `{{ value }}` is shell-quoted unless marked raw."""

from __future__ import annotations

import functools
import ipaddress
import shlex
import textwrap
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator import __version__
from generator.errors import UserError
from generator.recipes.params import ParamValue, display, shown
from generator.recipes.catalog import TOPOLOGY, Recipe

TEMPLATES = Path(__file__).resolve().parent / "templates"


class Raw(str):
    """Text the template may emit unquoted: built by us, never taken from a parameter."""


def shell_quote(value: object) -> str:
    """Jinja's finalize hook: quote whatever an expression yields, so no value can inject shell."""
    if isinstance(value, Raw):
        return value
    if isinstance(value, jinja2.Undefined):
        # finalize sees the Undefined itself, before anything stringifies it: str() makes
        # StrictUndefined raise, so a misspelt name fails instead of rendering as nothing.
        str(value)
        return ""
    text = display(value)
    if any(ch in text for ch in "\n\r\x00"):
        raise UserError(f"refusing to render a value with a line break or NUL: {text!r}")
    return shlex.quote(text)


def _raw_indent(text: object, width: int = 2) -> Raw:
    """Indent text by `width` spaces. Only text the template rendered itself (a block, from
    `block_text`) stays as it is; any other value is shell-quoted first, like every value."""
    body = text if isinstance(text, Raw) else shell_quote(text)
    lines = str(body).strip("\n").splitlines()
    return Raw("\n".join((" " * width + line) if line.strip() else "" for line in lines))


@jinja2.pass_context
def _block_text(context: jinja2.runtime.Context, name: str) -> Raw:
    """The rendered output of one of the template's own blocks. Its values went through
    finalize (quoted) as they were rendered, so the text may be emitted raw."""
    if name not in context.blocks:
        raise UserError(f"template has no block {shown(name)}")
    return Raw("".join(context.blocks[name][0](context)))


def _host(network: ipaddress.IPv4Network, index: int) -> ipaddress.IPv4Address:
    """The index-th host address of a network: network | host(1) is the first usable address."""
    if not 0 < index < network.num_addresses - (network.prefixlen < 31):
        raise UserError(f"{network} has no host number {index}; use a larger subnet")
    return network[index]


# Characters that stay live inside a double-quoted shell word (or end a single-quoted one):
# written as TOML/JSON \u escapes, which script.py and tomllib read back as the same text.
_SHELL_LIVE = {ord("$"): "\\u0024", ord("`"): "\\u0060", ord("'"): "\\u0027", ord("!"): "\\u0021"}


def _toml(value: object) -> Raw:
    """A TOML (and JSON) string literal, for topology templates and `#@` lines. Also safe as a
    shell word: json escapes `"` and `\\`, and every character the shell would expand inside
    double quotes is escaped, so `echo {{ who | toml }}` with who=$(id) prints $(id)."""
    import json

    return Raw(json.dumps(display(value)).translate(_SHELL_LIVE))


@functools.cache
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs: compiling them is a third of `recipe render`'s own
    time (bench/render_startup.py). Jinja checks each template's source checksum, and the folder
    name carries a digest of this file, whose options and filters shape the compiled code.

    Loading a cache file unpickles and unmarshals it, which runs code: the cache is used only
    when no other user could have written it (generator/recipes/bytecode.py checks that), else not at all."""
    import hashlib
    import os

    from generator.recipes.bytecode import PrivateBytecodeCache, private_folder

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    folder = private_folder(base, Path("recipe", f"jinja-{jinja2.__version__}-{tag}"))
    return PrivateBytecodeCache(str(folder)) if folder else None


def environment(recipe: Recipe) -> jinja2.Environment:
    """Templates come from recipes a user installs, and rendering one must run nothing on the
    machine: the sandbox refuses `__class__`, `__globals__` and the like, and the immutable one
    refuses to change lists and dicts too."""
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(recipe.directory), str(TEMPLATES)]),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        finalize=shell_quote,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["host"] = _host
    env.filters["raw_indent"] = _raw_indent
    env.filters["toml"] = _toml
    env.filters["q"] = lambda v: Raw(shell_quote(v))
    env.globals["block_text"] = _block_text
    return env


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
    message = f"this lab runs on {len(hosts)} hosts; run it with: recipe run lab.sh {flags}"
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
    return _render(recipe, recipe.template.name, context)


def _name_guard(recipe: Recipe, values: Mapping[str, ParamValue], sudo: bool) -> Raw:
    """Blocks of lines that stop the script when a name it creates is taken, one block per host
    role (see generator/recipes/guard.py): `#@ guard` for the one host, `#@ guard on ROLE` for each host
    of a multi-host lab, which `recipe run` runs on that host."""
    from generator.recipes import guard

    found = guard.claims(render_topology(recipe, values))
    blocks = []
    for role, claims in guard.by_role(found).items():
        lines = "\n".join(guard.shell_lines(claims, "sudo " if sudo else ""))
        opening = f"#@ guard on {role}" if recipe.hosts and role else "#@ guard"
        blocks.append(f"{opening}\n{_GUARD_WHY}\n{lines}\n#@ end-guard")
    return Raw("\n\n".join(blocks))


_GUARD_WHY = "# Stop before anything changes if a name this lab creates is taken: the teardown would remove it."


def render_topology(recipe: Recipe, values: Mapping[str, ParamValue]) -> dict[str, Any]:
    """Nodes, links, addresses and rules the lab builds, from topology.toml.j2 when present."""
    if not (recipe.directory / TOPOLOGY).is_file():
        return {}
    text = _render(recipe, TOPOLOGY, dict(values))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{recipe.directory / TOPOLOGY}: renders to invalid TOML: {exc}") from None


def _render(recipe: Recipe, name: str, context: Mapping[str, Any]) -> str:
    path = recipe.directory / name
    try:
        return environment(recipe).get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(f"{exc.filename or path}:{exc.lineno}: template error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise UserError(f"{path}: template uses an undefined value: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise UserError(f"{path}: template error: {exc}") from None


def evaluate(expr: str, values: Mapping[str, ParamValue]) -> bool:
    """Evaluate a recipe constraint such as `n + 2 <= subnet.num_addresses`.

    The expression is the name of a one-line template, so it goes through the bytecode cache like
    the lab templates: compiling expressions cost more than rendering the whole cached script.
    A constraint is a data check written by a recipe's author: it runs in the sandbox, where
    `cycler.__init__.__globals__.os` and the like raise SecurityError.
    """
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        loader=jinja2.FunctionLoader(lambda name: "{% if " + name + " %}1{% endif %}"),
        bytecode_cache=_bytecode_cache(),
    )
    try:
        return env.get_template(expr).render(values) == "1"
    except jinja2.TemplateError as exc:
        raise UserError(f"constraint {shown(expr)} cannot be evaluated: {shown(str(exc))}") from None
