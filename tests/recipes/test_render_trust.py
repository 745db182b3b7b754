"""Rendering runs nothing on the machine: a poisoned bytecode cache is never loaded, a hostile
user recipe is stopped by the sandbox, and no filter lets a value out unquoted."""

from __future__ import annotations

import marshal
import os
import pickle
import subprocess
from pathlib import Path

import pytest

from tests.cli_runner import assert_one_line_error, recipe
from tests.recipes.test_user_recipes import META, TEMPLATE, write_recipe

NOBODY = 65534


class _Touch:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.path}",))


def _poison(folder: Path, marker: Path) -> list[Path]:
    """Rewrite every cache file: a pickle that runs `touch` when loaded, then marshalled code
    that would run it too."""
    from jinja2.bccache import bc_magic

    code = compile(f"open({str(marker)!r}, 'w').close()", "<poison>", "exec")
    files = sorted(folder.rglob("*.cache"))
    for path in files:
        path.write_bytes(bc_magic + pickle.dumps(_Touch(marker), 2) + marshal.dumps(code))
    return files


@pytest.mark.parametrize("how", ["file-owned-by-nobody", "file-group-writable", "folder-open"])
def test_a_poisoned_cache_file_is_never_executed(tmp_path: Path, how: str) -> None:
    if os.geteuid() != 0 and how == "file-owned-by-nobody":
        pytest.skip("needs root to chown")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = recipe("render", "veth-pair", env=env)
    assert first.returncode == 0, first.stderr
    marker = tmp_path / "pwned"
    files = _poison(tmp_path / "cache", marker)
    assert files, "the first render wrote no cache"
    for path in files:
        if how == "file-owned-by-nobody":
            os.chown(path, NOBODY, NOBODY)
        elif how == "file-group-writable":
            path.chmod(0o620)
    if how == "folder-open":
        for folder in {p.parent for p in files}:
            folder.chmod(0o777)
            os.chown(folder, NOBODY, NOBODY) if os.geteuid() == 0 else None
    again = recipe("render", "veth-pair", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert not marker.exists(), "a cache file another user could write was executed"


def test_cache_folders_are_private(tmp_path: Path) -> None:
    done = recipe("render", "veth-pair", env={"XDG_CACHE_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    for folder in [tmp_path / "recipe", *(tmp_path / "recipe").iterdir()]:
        assert folder.stat().st_mode & 0o777 == 0o700, folder


HOSTILE_EXPR = "cycler.__init__.__globals__.os.system('touch {marker}') == 0"
HOSTILE_TEMPLATE = "{{{{ cycler.__init__.__globals__.os.system('touch {marker}') }}}}"


def test_a_hostile_constraint_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    meta = (
        META + f'\n[[constraints]]\nexpr = "{HOSTILE_EXPR.format(marker=marker)}"\nmessage = "no"\n'
    )
    write_recipe(tmp_path / "r", "evil", meta)
    for command in ("show", "render"):
        assert_one_line_error(
            recipe(command, "evil", env={"RECIPE_PATH": str(tmp_path / "r")}), "constraint"
        )
    assert not marker.exists()


def test_a_hostile_template_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    template = TEMPLATE.replace("{{ who }}", HOSTILE_TEMPLATE.format(marker=marker))
    write_recipe(tmp_path / "r", "evil", META, template)
    done = recipe("render", "evil", env={"RECIPE_PATH": str(tmp_path / "r")})
    assert_one_line_error(done, "template error")
    assert not marker.exists()


def test_constraint_message_cannot_reach_python_objects(tmp_path: Path) -> None:
    meta = META + '\n[[constraints]]\nexpr = "false"\nmessage = "{who.__class__.__mro__} {who}"\n'
    write_recipe(tmp_path / "r", "nosy", meta)
    line = assert_one_line_error(recipe("render", "nosy", env={"RECIPE_PATH": str(tmp_path / "r")}))
    assert line == "recipe: {who.__class__.__mro__} world"


@pytest.mark.parametrize("filt", ["toml", "raw_indent", "q"])
def test_every_filter_keeps_a_value_one_inert_word(tmp_path: Path, filt: str) -> None:
    """`echo {{ who | FILTER }}` with who=$(touch ...) must print the value, never run it."""
    marker = tmp_path / "pwned"
    template = TEMPLATE.replace("#@ expect-output hello\n", "").replace(
        "{{ who }}", f"{{{{ who | {filt} }}}}"
    )
    write_recipe(tmp_path / "r", "greet", META, template)
    value = f"$(touch {marker})`touch {marker}`'\"!x"
    done = recipe(
        "render", "greet", "--set", f"who={value}", env={"RECIPE_PATH": str(tmp_path / "r")}
    )
    assert done.returncode == 0, done.stderr
    ran = subprocess.run(["bash", "-c", done.stdout], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert not marker.exists(), done.stdout
    out = ran.stdout.strip()
    if filt == "toml":  # a TOML string literal: \u escapes stand for the live characters
        import json

        out = json.loads(out.removeprefix("hello ")) if out.startswith('hello "') else out
        assert "touch" in ran.stdout
    else:
        assert out == f"hello {value}"


def test_toml_filter_keeps_expectations_readable() -> None:
    """ping-telnet's `#@ expect-output {{ banner | toml }}` must still expect the banner."""
    from generator.lab.script import parse
    from generator.recipes import catalog as recipes
    from generator.recipes.render import render_script

    lab = recipes.load("ping-telnet")
    banner = "$(not run); `nor this` it's!"
    script = parse(render_script(lab, recipes.resolve(lab, {"banner": banner})))
    assert banner in [text for step in script.steps for text in step.expect.output]
