"""Progress as a person sees it: on a terminal, rich's live display shows the running step (a
spinner, erased when the step's result line takes its place); piped, plain lines only. Run for
real, through a pty, on a script that only echoes and sleeps."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.root

SCRIPT = "#!/bin/bash\necho first-step\nsleep 0.8\necho last-step\n"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"  # rich's "dots"


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "echoes.sh"
    path.write_text(SCRIPT)
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "RECIPE_PATH")}
    return {**env, "RECIPE_STATE_DIR": str(tmp_path / "state"), "TERM": "xterm-256color"}


def test_a_terminal_sees_the_live_display(
    clean_machine: None, script: Path, env: dict[str, str]
) -> None:
    child = pexpect.spawn(
        "recipe",
        ["run", str(script)],
        cwd=str(script.parent),  # its transcript goes to transcripts/ there, not the checkout's
        env=env,
        dimensions=(24, 100),
        encoding="utf-8",
    )
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    seen = child.before
    assert isinstance(seen, str)
    assert child.exitstatus == 0, seen
    assert "running" in seen and any(frame in seen for frame in SPINNER), seen
    assert "\x1b[?25l" in seen  # the live display hides the cursor while it runs ...
    assert "\x1b[?25h" in seen  # ... and shows it again
    assert "\x1b[K" not in seen  # the hand-made erase of the line is gone
    for step in ("1/3", "2/3", "3/3"):
        assert f"[{step}]" in seen
    assert "echo last-step" in seen
    assert list((script.parent / "transcripts").glob("*.transcript"))


def test_a_pipe_sees_plain_lines(clean_machine: None, script: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        ["recipe", "run", str(script)],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    steps = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert [line.split()[0] for line in steps] == ["[1/3]", "[2/3]", "[3/3]"]
    assert all(line.split()[1] == "ok" for line in steps), steps
