"""Run the `recipe` command line as a user does.

recipe(): a new process through generator.cli:main, the console script's entry point, for runs
that touch the machine, signals and real file descriptors. invoke(): in this process through
typer.testing.CliRunner, for the error paths; both go through RecipeGroup.main, where every
error becomes one line and an exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = "from generator.cli import main; main()"


def recipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "RECIPE_PATH"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`recipe ARGS` through CliRunner, as a CompletedProcess so both helpers read alike."""
    from typer.testing import CliRunner

    from generator.cli import app

    result = CliRunner(env={"RECIPE_PATH": None, **(env or {})}).invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a failure of its own: show it whole
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 2, nothing on stdout, one `recipe: ...` line on stderr that names each fragment."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("recipe: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
