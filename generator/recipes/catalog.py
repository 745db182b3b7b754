"""Find recipes, load their metadata and turn `--set key=value` pairs into checked parameters."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import visible
from generator.errors import UserError, closest
from generator.recipes.params import (
    PARSERS,
    ParamError,
    ParamSpec,
    ParamValue,
    display,
    host_address,
    shown,
)

METADATA = "recipe.toml"
TEMPLATE = "lab.sh.j2"
# A wheel carries recipes/ inside the package (pyproject.toml maps it); a checkout has it beside.
_PACKAGED_DIR = Path(__file__).resolve().parents[1] / "library"
BUILTIN_DIR = _PACKAGED_DIR if _PACKAGED_DIR.is_dir() else _PACKAGED_DIR.parent.parent / "recipes"
PATH_ENV = "RECIPE_PATH"


@dataclass(frozen=True)
class Constraint:
    """A rule across parameters, written as a Jinja expression that must be true."""

    expr: str
    message: str


@dataclass(frozen=True)
class Recipe:
    name: str
    directory: Path
    title: str
    summary: str
    description: str
    params: tuple[ParamSpec, ...]
    requires: tuple[str, ...] = ()
    docker: bool = False
    hosts: tuple[str, ...] = ()  # roles of a multi-host recipe; empty means one host
    timeout: float = 30.0
    constraints: tuple[Constraint, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def template(self) -> Path:
        return self.directory / TEMPLATE

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        known = ", ".join(p.name for p in self.params) or "none"
        raise UserError(
            f"recipe {self.name} has no parameter {_quoted(name)}; its parameters: {known}"
        )


def search_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """User directories first (so they can shadow a built-in recipe), then the built-ins."""
    dirs = [Path(p) for p in extra]
    dirs += [Path(p) for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    dirs.append(BUILTIN_DIR)
    return dirs


def discover(extra: Iterable[Path] = ()) -> dict[str, Path]:
    """Map each recipe name to its folder; the first folder found for a name wins."""
    found: dict[str, Path] = {}
    for base in search_dirs(extra):
        if not base.is_dir():
            raise UserError(
                f"recipe directory {base} does not exist; check --recipes or ${PATH_ENV}"
            )
        for meta in sorted(base.glob(f"*/{METADATA}")):
            found.setdefault(meta.parent.name, meta.parent)
    return found


def load_all(extra: Iterable[Path] = ()) -> list[Recipe]:
    return [load_dir(path) for path in discover(extra).values()]


def load(name: str, extra: Iterable[Path] = ()) -> Recipe:
    found = discover(extra)
    if name not in found:
        raise UserError(unknown(name, found))
    return load_dir(found[name])


def unknown(name: str, found: Iterable[str]) -> str:
    """The line for a recipe name not found: the closest name first, then every name."""
    known = sorted(found)
    close = closest(name, known)
    what = f"unknown recipe {visible.shown(name, quote=True)}"
    if close is not None:
        return f"{what}; did you mean {close!r}? (`recipe list` shows all {len(known)})"
    return f"{what}; known recipes: {', '.join(known) or 'none'} (see `recipe list`)"


def load_dir(directory: Path) -> Recipe:
    """Read one recipe folder; every problem names the file and what is wrong in it."""
    meta_path = directory / METADATA
    try:
        data = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{meta_path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{meta_path}: invalid TOML: {exc}") from None
    if not (directory / TEMPLATE).is_file():
        raise UserError(
            f"{directory / TEMPLATE}: missing; every recipe needs a {TEMPLATE} template"
        )
    try:
        return _recipe_from(directory, data)
    except (KeyError, TypeError, ValueError) as exc:
        # str() of a KeyError is its repr, quotes and all; the message itself reads better
        raise UserError(f"{meta_path}: {exc.args[0] if exc.args else exc}") from None


def _require(data: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in data:
        raise KeyError(f"missing required key {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise TypeError(f"key {key!r} must be a {kind.__name__}")
    return value


def _recipe_from(directory: Path, data: Mapping[str, Any]) -> Recipe:
    params = tuple(_param_from(name, spec) for name, spec in data.get("params", {}).items())
    constraints = tuple(
        Constraint(expr=_require(c, "expr", str), message=_require(c, "message", str))
        for c in data.get("constraints", [])
    )
    known = {
        "title",
        "summary",
        "description",
        "params",
        "requires",
        "docker",
        "hosts",
        "timeout",
        "constraints",
    }
    return Recipe(
        name=directory.name,
        directory=directory,
        title=_require(data, "title", str),
        summary=_require(data, "summary", str),
        description=_require(data, "description", str).strip(),
        params=params,
        requires=tuple(data.get("requires", [])),
        docker=bool(data.get("docker", False)),
        hosts=tuple(data.get("hosts", [])),
        timeout=float(data.get("timeout", 30.0)),
        constraints=constraints,
        extra={k: v for k, v in data.items() if k not in known},
    )


def _param_from(name: str, spec: Mapping[str, Any]) -> ParamSpec:
    if not isinstance(spec, Mapping):
        raise TypeError(f"parameter {name!r} must be a table with type, default and help")
    kind = _require(spec, "type", str)
    if kind not in PARSERS:
        raise ValueError(
            f"parameter {name!r} has unknown type {kind!r}; use one of {', '.join(PARSERS)}"
        )
    if "default" not in spec:
        raise KeyError(f"parameter {name!r} needs a default")
    param = ParamSpec(
        name=name,
        type=kind,
        default=spec["default"],
        help=_require(spec, "help", str),
        min=spec.get("min"),
        max=spec.get("max"),
        within=spec.get("within"),
        choices=tuple(spec.get("choices", ())),
    )
    try:
        param.parse(param.default)
    except ParamError as exc:
        raise ValueError(f"default of parameter {name!r} {exc}") from None
    return param


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """Split `key=value` strings; a later value for the same key wins, as on a command line."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--set {_quoted(pair)}: expected key=value, for example --set n=10")
        result[key.strip()] = value
    return result


def resolve(recipe: Recipe, overrides: Mapping[str, object]) -> dict[str, ParamValue]:
    """Typed values for every parameter, checked one by one and then against each other."""
    for key in overrides:
        recipe.param(key)
    values: dict[str, ParamValue] = {}
    for spec in recipe.params:
        raw = overrides.get(spec.name, spec.default)
        try:
            values[spec.name] = spec.parse(raw)
        except ParamError as exc:
            raise UserError(f"parameter {spec.name}={shown(raw)} {exc}") from None
    _check_subnets(recipe, values)
    _check_unique_addresses(recipe, values)
    _check_constraints(recipe, values)
    _check_ownership(recipe, values, set(overrides))
    return values


def _check_subnets(recipe: Recipe, values: Mapping[str, ParamValue]) -> None:
    for spec in recipe.params:
        if not spec.within:
            continue
        network = values[spec.within]
        address = host_address(values[spec.name])
        if address is not None and address not in network:
            raise UserError(
                f"parameter {spec.name}={display(values[spec.name])} lies outside "
                f"{spec.within}={network}; choose an address inside it"
            )
        if address is not None and address in {network.network_address, network.broadcast_address}:
            raise UserError(
                f"parameter {spec.name}={address} is the network or broadcast address of {network}"
            )
        value = values[spec.name]
        if isinstance(value, ipaddress.IPv4Interface) and value.network != network:
            # 10.0.0.2/16 lies in 10.0.0.0/24 but would route the whole /16 to this link
            raise UserError(
                f"parameter {spec.name}={value} must carry the prefix of {spec.within}={network}; "
                f"use {value.ip}/{network.prefixlen}"
            )


def _check_unique_addresses(recipe: Recipe, values: Mapping[str, ParamValue]) -> None:
    seen: dict[object, str] = {}
    for spec in recipe.params:
        address = host_address(values[spec.name])
        if address is None:
            continue
        if address in seen:
            raise UserError(
                f"parameters {seen[address]} and {spec.name} both use {address}; "
                "addresses must be unique"
            )
        seen[address] = spec.name


def _check_constraints(recipe: Recipe, values: Mapping[str, ParamValue]) -> None:
    from generator.recipes.jinja import evaluate  # late: keeps jinja out of `recipe list`

    for rule in recipe.constraints:
        if not evaluate(rule.expr, values):
            raise UserError(_fill(rule.message, values))


def _fill(message: str, values: Mapping[str, ParamValue]) -> str:
    """A constraint's message with each `{name}` replaced by that value. Not str.format: a user
    recipe's `{c1.__class__...}` would reach into Python objects."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return shown(values[name]) if name in values else match.group(0)

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", one, message)


def _check_ownership(recipe: Recipe, values: Mapping[str, ParamValue], given: set[str]) -> None:
    """Every name the lab makes must be one it may make: never docker0, lo or Docker's networks,
    and never the same name twice (generator/recipes/guard.py)."""
    from generator.recipes import guard
    from generator.recipes.topology import render_topology  # late, as above

    problem = guard.ownership_problem(render_topology(recipe.directory, values))
    if problem is None:
        return
    claim, why = problem
    # The parameters that gave the name, those set on the command line first: the line names
    # the one to change.
    params = [k for k, v in values.items() if isinstance(v, str) and v == claim.name]
    params = [k for k in params if k in given] or params
    fix = f"; choose another name with --set {params[-1]}=NAME" if params else ""
    named = f"parameter{'s' if len(params) > 1 else ''} {' and '.join(params)}: " if params else ""
    raise UserError(f"{named}{claim} {why}{fix}")


def _quoted(text: str) -> str:
    """A key or pair in quotes, as repr() writes it, but escaped and shortened like a value."""
    out = shown(text)
    return out if out.startswith("'") else repr(out)
