"""`recipe render` starts nearly as fast as a bare Typer app: nothing heavy on its import path.

The timing itself is a benchmark (bench/render_startup.py), not a test; these tests pin down the
reasons it holds, so a change that breaks them fails here rather than only in the benchmark.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from generator.cli import _invoked_command

SCRIPT = Path(sysconfig.get_path("scripts")) / "recipe"
HEAVY = (
    "paramiko",
    "docker",
    "pexpect",
    "rich",
    "pydantic_settings",
    "generator.lab.script",
    "generator.lab.runner",
    "generator.hosts.images",
    "generator.commands.run",
)
needs_script = pytest.mark.skipif(not SCRIPT.is_file(), reason=f"no console script at {SCRIPT}")


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["render", "custom-bridge"], "render"),
        (["--recipes", "/tmp/r", "render", "x"], "render"),
        (["--recipes=/tmp/r", "list"], "list"),
        (["--help"], None),
        ([], None),
        (["run", "lab.sh"], "run"),
        (["--recipes", "render", "run"], "run"),  # "render" here is the folder's name
    ],
)
def test_the_command_word_is_found_past_global_options(
    argv: list[str], command: str | None
) -> None:
    assert _invoked_command(argv) == command


def imported_modules(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(re.findall(r"^import time:.*\|\s*(\S+)$", done.stderr, re.MULTILINE))


@needs_script
def test_render_imports_nothing_heavy() -> None:
    modules = imported_modules("render", "custom-bridge")
    assert "jinja2" in modules and "generator.recipes.render" in modules  # the probe sees imports
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
    assert not heavy, f"recipe render imported {heavy}"


@needs_script
def test_other_commands_are_still_there_for_the_console_script() -> None:
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for command in ("render", "image"):
        assert re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE), done.stdout


@needs_script
def test_the_fast_path_writes_the_same_script_as_the_full_app() -> None:
    """The console script on the fast path (library commands only, no final garbage collection)
    must print every byte that the full app prints."""
    fast = subprocess.run(
        [str(SCRIPT), "render", "custom-bridge", "--sudo"], capture_output=True, check=False
    )
    full = subprocess.run(
        [
            sys.executable,
            "-c",
            "from generator.cli import main; main()",
            "render",
            "custom-bridge",
            "--sudo",
        ],
        capture_output=True,
        check=False,
    )
    assert fast.returncode == full.returncode == 0, fast.stderr + full.stderr
    assert fast.stdout == full.stdout and fast.stdout.endswith(b"EOF\n")
