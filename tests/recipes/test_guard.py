"""A lab never starts over names that exist already, so its teardown cannot delete them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.recipes import catalog as recipes
from generator.recipes import guard
from generator.recipes.render import render_script
from generator.recipes.topology import render_topology
from tests.cli_runner import assert_one_line_error, recipe


def _claims(name: str) -> list[tuple[str, str]]:
    recipe = recipes.load(name)
    values = recipes.resolve(recipe, {})
    return [(c.kind, c.name) for c in guard.claims(render_topology(recipe.directory, values))]


def test_claims_follow_the_topology() -> None:
    assert _claims("veth-pair") == [
        ("netns", "test1"),
        ("netns", "test2"),
        ("link", "veth-test1"),
        ("link", "veth-test2"),
    ]
    # eth0 inside each namespace is made there directly; only the host ends need free names
    assert ("link", "eth0") not in _claims("linux-bridge")
    assert ("link", "br0") in _claims("linux-bridge")
    # Docker's own docker0 is used, not made; container ends are Docker's business
    assert _claims("custom-bridge") == [
        ("container", "test1"),
        ("container", "test2"),
        ("container", "test3"),
        ("network", "my-bridge"),
    ]


@pytest.fixture
def squatter(clean_machine: None) -> Iterator[str]:
    """A namespace that someone else made, with the name the lab wants."""
    subprocess.run(["ip", "netns", "add", "test1"], check=True)
    yield "test1"
    subprocess.run(["ip", "netns", "delete", "test1"], check=False)


def test_bash_refuses_a_taken_name_and_leaves_it_alone(squatter: str, tmp_path: Path) -> None:
    recipe = recipes.load("veth-pair")
    lab = tmp_path / "lab.sh"
    lab.write_text(render_script(recipe, recipes.resolve(recipe, {})))
    done = subprocess.run(
        ["bash", str(lab)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "lab.sh: network namespace test1 already exists; "
        "remove it or choose another name with --set"
    )
    assert Path("/run/netns", squatter).exists(), "the teardown removed a namespace it did not make"


def test_recipe_run_refuses_a_taken_name_before_any_step(squatter: str, tmp_path: Path) -> None:
    record = tmp_path / "lab.transcript"
    done = recipe("run", "veth-pair", "--record", str(record))
    assert_one_line_error(done, "network namespace test1 already exists")
    assert Path("/run/netns", squatter).exists()
    assert not record.exists() and not tr.partials(record)
