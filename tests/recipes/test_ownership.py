"""The ownership rule: a lab creates, and tears down, only names it declares as its own."""

from __future__ import annotations

import re

import pytest

from generator.lab.script import parse
from generator.recipes import catalog as recipes
from generator.recipes import guard
from generator.recipes.render import render_script
from generator.recipes.topology import render_topology
from tests.cli_runner import assert_one_line_error, recipe

RECIPES = {r.name: r for r in recipes.load_all()}
# Teardown commands that remove something, and the kind of name each removes.
REMOVALS = [
    (re.compile(r"ip netns delete (\S+)"), "netns"),
    (re.compile(r"ip netns pids (\S+)"), "netns"),  # kills what runs in that namespace
    (re.compile(r"ip link delete (\S+)"), "link"),
    (re.compile(r"docker network rm (\S+)"), "network"),
    (re.compile(r"docker swarm (leave)"), "swarm"),
]
_RM = re.compile(r"docker rm -f ((?:[^\s>]+ ?)+)")


def _removed(command: str) -> list[tuple[str, str]]:
    found = [(kind, m.group(1)) for rx, kind in REMOVALS for m in rx.finditer(command)]
    for m in _RM.finditer(command):
        found += [("container", name) for name in m.group(1).split() if not name.startswith("2")]
    return [(k, "swarm" if k == "swarm" else n) for k, n in found]


def _renamed(name: str) -> dict[str, str]:
    """Every name parameter set to a fresh value: the rule must hold for any names, not only
    the defaults."""
    names = ("ifname", "netns", "container", "network")
    specs = [s for s in RECIPES[name].params if s.type in names]
    return {s.name: f"zq{i}" for i, s in enumerate(specs)}


@pytest.mark.parametrize("name", sorted(RECIPES))
@pytest.mark.parametrize("renamed", [False, True], ids=["defaults", "renamed"])
def test_teardown_removes_only_names_the_recipe_declares(name: str, renamed: bool) -> None:
    recipe = RECIPES[name]
    values = recipes.resolve(recipe, _renamed(name) if renamed else {})
    owned = {(c.kind, c.name) for c in guard.claims(render_topology(recipe.directory, values))}
    teardown = parse(render_script(recipe, values)).teardown
    removed = [r for step in teardown for r in _removed(step.command)]
    assert removed, f"{name}: no teardown command recognised"
    for kind, target in removed:
        assert (kind, target) in owned, f"{name} tears down {kind} {target} it does not declare"


def test_docker0_is_used_not_owned() -> None:
    for name in ("docker-bridge", "container-link", "container-netns", "custom-bridge"):
        recipe = RECIPES[name]
        claims = guard.claims(render_topology(recipe.directory, recipes.resolve(recipe, {})))
        assert all(c.name != "docker0" for c in claims), name


REFUSED = [
    ("linux-bridge", "bridge=docker0", "docker0"),
    ("linux-bridge", "bridge=lo", "loopback"),
    ("linux-bridge", "bridge=eth0", "eth0"),
    ("linux-bridge", "bridge=br-0123456789ab", "Docker gives"),
    ("veth-pair", "if1=docker0", "docker0"),
    ("veth-pair", "if2=lo", "loopback"),
    ("ping-telnet", "client_if=lo", "loopback"),
    ("bridge-nat", "uplink=docker0", "docker0"),
    ("bridge-nat", "outside_if=lo", "loopback"),
    ("custom-bridge", "network=bridge", "built-in"),
    ("swarm-overlay", "network=host", "host"),
    ("swarm-overlay", "handoff=test1", "made twice"),
]


@pytest.mark.parametrize(("name", "setting", "fragment"), REFUSED)
def test_reserved_or_doubled_names_are_refused_before_anything_runs(
    name: str, setting: str, fragment: str
) -> None:
    # `recipe run` resolves the parameters before it opens a shell: nothing runs.
    for command in ("render", "run"):
        assert_one_line_error(recipe(command, name, "--set", setting), fragment)
