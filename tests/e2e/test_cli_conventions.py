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
from tests.cli_runner import ENTRY, ROOT, assert_one_line_error, invoke, recipe
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
    names = [n["name"] for n in data["nodes"]]
    pair = [name for name in names if name.startswith("docker-node")]
    assert pair in (["docker-node1", "docker-node2"], []), names  # [] while only stacks run
    for node in data["nodes"]:  # the rest are stack nodes, each saying its stack
        assert (node["stack"] is None) == (node["name"] in pair), node
    assert done.returncode == (0 if data["running"] else 1)


def test_every_schema_is_documented() -> None:
    documented = (ROOT / "docs" / "json.md").read_text()
    for path in sorted((ROOT / "docs" / "schemas").glob("*.json")):
        assert f"schemas/{path.name}" in documented, path.name


# ------------------------------------------------------------------ wording


def test_diff_names_both_recordings_and_calls_neither_replayed(tmp_path: Path) -> None:
    golden = ROOT / "transcripts" / "veth-pair.transcript"
    text = golden.read_text()
    other = tmp_path / "other.transcript"
    first = text.index("stdout:\n  | ")
    text = text[:first] + "stdout:\n  | an extra line\n  | " + text[first + 13 :]
    other.write_text(text.replace("exit: 0", "exit: 1", 1))
    done = invoke("diff", str(golden), str(other), "--color", "never")
    assert done.returncode == 1, done.stderr
    assert "exit status 0 in veth-pair.transcript, 1 in other.transcript" in done.stdout
    assert "--- veth-pair.transcript stdout" in done.stdout
    assert "replay" not in done.stdout and "is now" not in done.stdout
    same_name = tmp_path / "veth-pair.transcript"
    same_name.write_text(other.read_text())
    both = invoke("diff", str(golden), str(same_name), "--color", "never")
    assert f"--- {golden} stdout" in both.stdout and f"+++ {same_name} stdout" in both.stdout


def test_replay_keeps_its_words() -> None:
    from generator.compare.runs import BindingDiff
    from generator.compare.sides import REPLAY, between

    binding = BindingDiff("IF#1", "IF#3", "12", "30")
    assert binding.describe() == "IF#1 (recorded 12) is now IF#3 (replayed 30)"
    sides = between(Path("a.transcript"), Path("b.transcript"))
    assert binding.describe(sides) == "IF#1 (12) in a.transcript, IF#3 (30) in b.transcript"
    assert REPLAY.changed("exit status", 0, 1) == "exit status 0 is now 1"
    assert between(Path("x"), Path("x")).old == "first"


def test_an_unknown_recipe_gets_the_closest_name_first() -> None:
    line = assert_one_line_error(invoke("show", "custom-brige"), "unknown recipe 'custom-brige'")
    assert line.endswith(f"did you mean 'custom-bridge'? (`recipe list` shows all {len(RECIPES)})")
    far = assert_one_line_error(invoke("render", "zzzzzzzz"), "known recipes: ")
    assert "did you mean" not in far and "custom-bridge" in far


@pytest.mark.parametrize(
    ("count", "noun", "many", "said"),
    [(0, "step", None, "0 steps"), (1, "teardown step", None, "1 teardown step"),
     (2, "step", None, "2 steps"), (1, "directory", "directories", "1 directory"),
     (3, "directory", "directories", "3 directories")],
)  # fmt: skip
def test_plural(count: int, noun: str, many: str | None, said: str) -> None:
    from generator.visible import plural

    assert plural(count, noun, many) == said
