"""Usage mistakes that Typer's own click catches get one line and exit 2, like our own errors.

Each runs through CliRunner and through the real entry point in a new process: Typer 0.29 carries
a private copy of click, and the error path must not depend on a separately installed click."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli_runner import ENTRY, ROOT, assert_one_line_error, invoke, recipe


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("render",), "Missing argument"),
        (("render", "veth-pair", "--bogus"), "No such option: --bogus"),
        (("render", "veth-pair", "--set"), "requires an argument"),
        (("nosuchcmd",), "No such command 'nosuchcmd'"),
        (("diff", "only-one.transcript"), "Missing argument"),
    ],
)
@pytest.mark.parametrize("how", [invoke, recipe], ids=["clirunner", "process"])
def test_usage_error_is_one_line(args: tuple[str, ...], fragment: str, how: object) -> None:
    assert callable(how)
    assert_one_line_error(how(*args), fragment)


def test_a_user_error_is_one_line_through_clirunner() -> None:
    line = assert_one_line_error(invoke("render", "no-such-lab"), "unknown recipe")
    assert "known recipes: " in line


def test_no_arguments_prints_help_and_succeeds() -> None:
    done = recipe()
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "render" in done.stdout


def test_unwritable_output_is_one_line() -> None:
    with open("/dev/full", "w") as full:
        failed = subprocess.run(
            [sys.executable, "-c", ENTRY, "render", "veth-pair"],
            cwd=ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert failed.returncode == 2
    assert failed.stderr.strip() == "recipe: No space left on device"


@pytest.mark.parametrize("name", ["\x1b[2Jgone", "x" * 100_000])
def test_a_hostile_target_is_echoed_quoted_and_short(name: str) -> None:
    line = assert_one_line_error(invoke("render", name), "unknown recipe")
    assert "\x1b" not in line and len(line) < 400
    line = assert_one_line_error(invoke("run", name + "/"), "")
    assert "\x1b" not in line and len(line) < 400
