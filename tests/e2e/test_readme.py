"""The README's promises: two set-up commands that CI really uses, and a user recipe that works."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = [sys.executable, "-c", "from generator.cli import main; main()"]


def section(title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.MULTILINE | re.DOTALL)
    assert found, f"README has no section {title!r}"
    return found.group(1)


def code_blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def test_setup_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    blocks = code_blocks(section("Set-up on a fresh Debian or Ubuntu machine"), "sh")
    assert len(blocks) == 2, blocks
    install, tests = (b.strip() for b in blocks)
    assert install.startswith("bash scripts/install.sh && ") and "bash lab.sh" in install
    assert "\n" not in install and "\n" not in tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # CI is the README's test command, then the stacks job the README names: what they install
    # and run, a user gets too.
    commands = [
        line
        for line in ci.splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd ", "echo "))
    ]
    assert commands == [tests, "bash scripts/replay-stacks.sh"], ci
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`scripts/replay-stacks.sh`" in readme
    for script in ("scripts/install.sh", "scripts/test.sh", "scripts/replay-stacks.sh"):
        assert (ROOT / script).is_file()


def test_scripts_pass_shellcheck() -> None:
    if subprocess.run(["which", "shellcheck"], capture_output=True, check=False).returncode:
        pytest.skip("needs shellcheck")
    scripts = [ROOT / ".ci" / "run", *sorted((ROOT / "scripts").glob("*.sh"))]
    done = subprocess.run(
        ["shellcheck", *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def write_worked_example(base: Path) -> Path:
    """The files of the README's user recipe, exactly as printed there."""
    text = section("Your own recipes")
    folder = base / "two-hosts"
    folder.mkdir(parents=True)
    for name, lang in (("recipe.toml", "toml"), ("lab.sh.j2", "jinja")):
        found = re.search(
            rf"^`~/my-recipes/two-hosts/{re.escape(name)}`:\n\n```{lang}\n(.*?)^```$",
            text,
            re.MULTILINE | re.DOTALL,
        )
        assert found, f"README lacks the {name} of the worked example"
        (folder / name).write_text(found.group(1), encoding="utf-8")
    return base


def test_worked_user_recipe_renders_through_recipes_and_recipe_path(tmp_path: Path) -> None:
    base = write_worked_example(tmp_path / "my-recipes")
    listed = subprocess.run(
        [*CLI, "--recipes", str(base), "list"], capture_output=True, text=True, check=False
    )
    assert listed.returncode == 0 and re.search(r"^two-hosts\s", listed.stdout, re.MULTILINE)
    env = {"RECIPE_PATH": str(base), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    shown = subprocess.run(
        [*CLI, "show", "two-hosts"], capture_output=True, text=True, check=False, env=env
    )
    assert shown.returncode == 0 and "10.99.0.0/30" in shown.stdout
    bad = subprocess.run(
        [*CLI, "--recipes", str(base), "render", "two-hosts", "--set", "subnet=10.99.0.1/30"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "host bits set" in bad.stderr


def test_worked_user_recipe_runs_and_cleans_up(clean_machine: None, tmp_path: Path) -> None:
    base = write_worked_example(tmp_path / "my-recipes")
    # Namespace names of our own, so a colleague's `left` is never touched.
    args = ["--set", "left=rcp-left", "--set", "right=rcp-right", "--set", "subnet=10.99.1.0/30"]
    rendered = subprocess.run(
        [*CLI, "--recipes", str(base), "render", "two-hosts", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    script = tmp_path / "two.sh"
    script.write_text(rendered.stdout)
    # The ping runs inside rcp-left, whose only route is the /30 link to rcp-right.
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 packets transmitted, 2 received, 0% packet loss" in done.stdout
    netns = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=False
    ).stdout
    assert "rcp-left" not in netns and "rcp-right" not in netns
