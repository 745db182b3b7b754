"""What users of docker and kubectl expect of a command line: --version, -h, shell completion,
and --json on the commands that report (each output held to its schema in docs/schemas/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import version
from generator.commands.completion import COMPLETE_VAR
from tests.cli_runner import ENTRY, ROOT, invoke, recipe
from tests.json_schema import problems, schema

RECIPES = sorted(p.parent.name for p in (ROOT / "recipes").glob("*/recipe.toml"))


def test_version_is_the_installed_one() -> None:
    from importlib.metadata import version as installed

    done = recipe("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"recipe {installed('recipe')}\n" == f"recipe {version()}\n"


@pytest.mark.parametrize("args", [(), ("render",), ("hosts",), ("hosts", "status"), ("diff",)])
def test_dash_h_is_help_everywhere(args: tuple[str, ...]) -> None:
    short, long = invoke(*args, "-h"), invoke(*args, "--help")
    assert short.returncode == long.returncode == 0, short.stderr
    assert short.stdout == long.stdout and "Usage: recipe" in short.stdout
    assert "-h, --help" in short.stdout


# ------------------------------------------------------------------ completion


@pytest.fixture
def on_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has a `recipe` that runs this checkout, as the script calls it."""
    wrapper = tmp_path / "recipe"
    wrapper.write_text(f'#!/bin/sh\ncd {ROOT} && exec {sys.executable} -c "{ENTRY}" "$@"\n')
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}


def _bash_complete(line: str, env: dict[str, str]) -> list[str]:
    """What bash offers for LINE (the cursor at its end) through the printed script itself."""
    script = recipe("completion", "bash").stdout
    probe = (
        f"{script}\n"
        f'COMP_LINE={line!r}; read -ra COMP_WORDS <<< "$COMP_LINE"\n'
        '[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")\n'
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        '_recipe_completion recipe "${COMP_WORDS[COMP_CWORD]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_bash_script_is_valid_bash() -> None:
    done = recipe("completion", "bash")
    assert done.returncode == 0 and COMPLETE_VAR in done.stdout
    assert "complete -o default -F _recipe_completion recipe" in done.stdout
    checked = subprocess.run(["bash", "-n"], input=done.stdout, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("recipe sh", ["show"]),
        ("recipe render cu", ["custom-bridge"]),
        ("recipe run v", ["veth-pair", "vxlan"]),
        ("recipe show ", RECIPES),
        ("recipe diff --color a", ["auto", "always"]),
        ("recipe completion ", ["bash", "zsh", "fish"]),
        ("recipe hosts st", ["status"]),
    ],
)
def test_bash_completes_commands_recipes_and_choices(
    line: str, offered: list[str], on_path: dict[str, str]
) -> None:
    assert _bash_complete(line, on_path) == offered


def test_an_extra_recipe_folder_is_completed_too(on_path: dict[str, str], tmp_path: Path) -> None:
    mine = tmp_path / "mine" / "my-own-lab"
    mine.mkdir(parents=True)
    shutil.copy(ROOT / "recipes" / "veth-pair" / "recipe.toml", mine)
    line = f"recipe --recipes {mine.parent} render my"
    assert _bash_complete(line, on_path) == ["my-own-lab"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_get_a_script_that_calls_back(shell: str) -> None:
    done = recipe("completion", shell)
    assert done.returncode == 0, done.stderr
    assert f"{COMPLETE_VAR}=complete_{shell}" in done.stdout
    if shutil.which(shell):
        checked = subprocess.run([shell, "-n"], input=done.stdout, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_are_answered(shell: str) -> None:
    """The call back their scripts make, answered as the shell reads it."""
    env = {COMPLETE_VAR: f"complete_{shell}", "_TYPER_COMPLETE_ARGS": "recipe render veth"}
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    done = recipe(env=env)
    assert done.returncode == 0, done.stderr
    assert "veth-pair" in done.stdout


def test_completion_edits_no_dotfile(tmp_path: Path) -> None:
    done = recipe("completion", "bash", env={"HOME": str(tmp_path)})
    assert done.returncode == 0 and list(tmp_path.iterdir()) == []
    assert "--install-completion" not in invoke("--help").stdout


# ------------------------------------------------------------------ --json


def _json(name: str, *args: str, code: int = 0) -> object:
    done = invoke(*args, "--json")
    assert done.returncode == code, done.stderr
    data = json.loads(done.stdout)
    assert problems(data, schema(name)) == []
    return data


def test_list_json() -> None:
    data = _json("list", "list")
    assert isinstance(data, dict)
    assert [r["name"] for r in data["recipes"]] == RECIPES
    swarm = next(r for r in data["recipes"] if r["name"] == "swarm-overlay")
    assert swarm["hosts"] and swarm["docker"] is True


@pytest.mark.parametrize("name", RECIPES)
def test_show_json_of_every_recipe(name: str) -> None:
    data = _json("show", "show", name)
    assert isinstance(data, dict) and data["name"] == name


def test_show_json_keeps_numbers_and_texts() -> None:
    data = _json("show", "show", "veth-pair")
    assert isinstance(data, dict)
    params = {p["name"]: p for p in data["params"]}
    assert params["ns1"]["default"] == "test1"
    assert any(isinstance(p["default"], int) for p in params.values())
    assert data["topology"]["nodes"]


def test_doctor_json() -> None:
    done = invoke("doctor", "--json")
    data = json.loads(done.stdout)
    assert problems(data, schema("doctor")) == []
    assert done.returncode == (2 if data["errors"] else 0)
    assert data["errors"] == len([f for f in data["findings"] if f["level"] == "error"])


def test_hosts_status_json() -> None:
    done = invoke("hosts", "status", "--json")
    data = json.loads(done.stdout)
    assert problems(data, schema("hosts-status")) == []
    assert [n["name"] for n in data["nodes"]] == ["docker-node1", "docker-node2"]
    assert done.returncode == (0 if data["running"] else 1)


def test_every_schema_is_documented() -> None:
    documented = (ROOT / "docs" / "json.md").read_text()
    for path in sorted((ROOT / "docs" / "schemas").glob("*.json")):
        assert f"schemas/{path.name}" in documented, path.name
