"""The Jinja side of rendering: a sandboxed environment where every `{{ value }}` is shell-quoted
unless it is Raw, the filters templates use, the private bytecode cache, and constraint checks.

It knows directories and template names, not recipes, so the recipe catalog and the renderer
both build on it without importing each other.
"""

from __future__ import annotations

import functools
import ipaddress
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.errors import UserError
from generator.recipes.params import ParamValue, display, shown

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
    when no other user could have written it (generator/recipes/bytecode.py checks that), else
    not at all."""
    import hashlib
    import os

    from generator.recipes.bytecode import PrivateBytecodeCache, private_folder

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    folder = private_folder(base, Path("recipe", f"jinja-{jinja2.__version__}-{tag}"))
    return PrivateBytecodeCache(str(folder)) if folder else None


def environment(directory: Path) -> jinja2.Environment:
    """Templates come from recipes a user installs, and rendering one must run nothing on the
    machine: the sandbox refuses `__class__`, `__globals__` and the like, and the immutable one
    refuses to change lists and dicts too."""
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(directory), str(TEMPLATES)]),
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


def render_template(directory: Path, name: str, context: Mapping[str, Any]) -> str:
    """Template `name` of a recipe folder, rendered; a template's own error is one line."""
    path = directory / name
    try:
        return environment(directory).get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(
            f"{exc.filename or path}:{exc.lineno}: template error: {exc.message}"
        ) from None
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
        raise UserError(
            f"constraint {shown(expr)} cannot be evaluated: {shown(str(exc))}"
        ) from None
