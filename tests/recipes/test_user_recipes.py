"""User recipes: a directory of recipes in the built-in format, given with --recipes or
$RECIPE_PATH. A broken one gets one line that names the file and the problem."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli_runner import assert_one_line_error, recipe

META = """\
title = "Greet someone"
summary = "Say hello from a user recipe."
description = "A user recipe in the same format as the built-in ones."

[params.who]
type = "str"
default = "world"
help = "Whom to greet."
"""
TEMPLATE = """\
{% extends "base.sh.j2" %}
{% block steps %}
# Greet.
#@ expect-output hello
echo hello {{ who }}
{% endblock %}
{% block teardown %}
true
{% endblock %}
"""
TOPOLOGY = """\
[[nodes]]
name = {{ who | toml }}
kind = "netns"
"""


def write_recipe(base: Path, name: str, meta: str = META, template: str | None = TEMPLATE) -> Path:
    folder = base / name
    folder.mkdir(parents=True)
    (folder / "recipe.toml").write_text(meta)
    if template is not None:
        (folder / "lab.sh.j2").write_text(template)
    return folder


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    base = tmp_path / "my-recipes"
    folder = write_recipe(base, "greet")
    (folder / "topology.toml.j2").write_text(TOPOLOGY)
    return base


def test_recipes_option_adds_a_directory(user_dir: Path) -> None:
    listed = recipe("--recipes", str(user_dir), "list")
    assert listed.returncode == 0, listed.stderr
    assert "greet" in listed.stdout and "Say hello from a user recipe." in listed.stdout
    assert "linux-bridge" in listed.stdout  # the built-ins stay
    rendered = recipe("--recipes", str(user_dir), "render", "greet", "--set", "who=$(id) you")
    assert rendered.returncode == 0, rendered.stderr
    ran = subprocess.run(
        ["bash", "-c", rendered.stdout], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "hello $(id) you\n"


def test_recipe_path_variable_adds_a_directory(user_dir: Path) -> None:
    done = recipe("render", "greet", env={"RECIPE_PATH": str(user_dir)})
    assert done.returncode == 0, done.stderr
    assert "#@ recipe greet\n" in done.stdout and "echo hello world\n" in done.stdout
    shown = recipe("show", "greet", env={"RECIPE_PATH": str(user_dir)})
    assert shown.returncode == 0, shown.stderr
    assert "who" in shown.stdout and "node     world (netns)" in shown.stdout


def test_user_recipe_shadows_a_builtin_of_the_same_name(tmp_path: Path) -> None:
    write_recipe(tmp_path, "veth-pair")
    done = recipe("--recipes", str(tmp_path), "render", "veth-pair")
    assert done.returncode == 0, done.stderr
    assert "echo hello world" in done.stdout


def test_missing_recipe_directory_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "nowhere"
    assert_one_line_error(recipe("--recipes", str(gone), "list"), str(gone), "does not exist")


BROKEN = [
    # (what is broken, recipe.toml text, lab.sh.j2 text or None, file named, words of the problem)
    ("bad TOML", 'title = "x\n', TEMPLATE, "recipe.toml", ["invalid TOML"]),
    ("missing template", META, None, "lab.sh.j2", ["missing"]),
    (
        "unknown type",
        META.replace('type = "str"', 'type = "colour"'),
        TEMPLATE,
        "recipe.toml",
        ["'who'", "unknown type 'colour'"],
    ),
    (
        "bad default",
        META.replace('type = "str"', 'type = "int"'),
        TEMPLATE,
        "recipe.toml",
        ["default of parameter 'who'", "integer"],
    ),
    (
        "no default",
        META.replace('default = "world"\n', ""),
        TEMPLATE,
        "recipe.toml",
        ["'who'", "needs a default"],
    ),
    (
        "no title",
        META.replace('title = "Greet someone"\n', ""),
        TEMPLATE,
        "recipe.toml",
        ["'title'"],
    ),
    (
        "template syntax",
        META,
        TEMPLATE.replace("{% endblock %}\n{% block teardown", "{% endblok %}\n{% block teardown"),
        "lab.sh.j2:",
        ["template error"],
    ),
    ("undefined value", META, TEMPLATE.replace("{{ who }}", "{{ whom }}"), "lab.sh.j2", ["whom"]),
]


@pytest.mark.parametrize(
    ("what", "meta", "template", "file", "problem"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_broken_user_recipe_gets_one_line_naming_the_file(
    tmp_path: Path, what: str, meta: str, template: str | None, file: str, problem: list[str]
) -> None:
    folder = write_recipe(tmp_path, "broken", meta, template)
    line = assert_one_line_error(
        recipe("--recipes", str(tmp_path), "render", "broken"), str(folder / file), *problem
    )
    assert what  # the id names the case; the line is checked above
    if template is not None and file == "recipe.toml":
        # `recipe list` loads every recipe, so it reports the same broken file.
        assert_one_line_error(recipe("--recipes", str(tmp_path), "list"), str(folder / file))
    assert line.count("\n") == 0
