"""What a transcript alone may not decide: the host replay connects to, the commands it runs,
and what the terminal shows. Every case is refused or shown before anything connects or runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.visible import visible
from tests.cli_runner import ROOT, assert_one_line_error, recipe

GOLDEN = ROOT / "transcripts" / "veth-pair.transcript"
# A host under TEST-NET-3: nothing answers there, and the refusal must come before any try.
FOREIGN = "root@203.0.113.5:2222"


def _edited(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = GOLDEN.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.transcript"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def test_a_transcript_cannot_choose_a_remote_host(tmp_path: Path) -> None:
    path = _edited(tmp_path, "target: local", f"target: {FOREIGN}")
    done = recipe("replay", str(path), env={"RECIPE_HOSTS_STATE": str(tmp_path / "none")})
    assert_one_line_error(done, "203.0.113.5", "--host")
    assert "replaying" not in done.stderr  # refused before it started, let alone connected


def test_a_role_host_a_transcript_chose_is_refused_too(tmp_path: Path) -> None:
    path = _edited(tmp_path, "target: local", "target: local,n2=evil.example")
    done = recipe("replay", str(path), env={"RECIPE_HOSTS_STATE": str(tmp_path / "none")})
    assert_one_line_error(done, "evil.example")


def test_the_dry_run_lists_an_untrusted_host_and_says_it_would_refuse(tmp_path: Path) -> None:
    path = _edited(tmp_path, "target: local", f"target: {FOREIGN}")
    done = recipe(
        "replay",
        "--dry-run",
        "--json",
        str(path),
        env={"RECIPE_HOSTS_STATE": str(tmp_path / "none")},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["transcripts"][0]["untrusted_host"] == FOREIGN


def test_a_virtual_node_in_the_inventory_is_trusted(tmp_path: Path) -> None:
    from generator.lab import replay

    state = tmp_path / "state"
    state.mkdir()
    (state / "inventory.toml").write_text(
        '[hosts."docker-node1"]\naddress = "192.168.205.10"\n', encoding="utf-8"
    )
    import os

    os.environ["RECIPE_HOSTS_STATE"] = str(state)
    try:
        assert replay.untrusted_host("docker-node1") == ""
        assert replay.untrusted_host("a=docker-node1,b=docker-node2") == "docker-node2"
        assert replay.untrusted_host("local") == ""
    finally:
        del os.environ["RECIPE_HOSTS_STATE"]


def test_replay_takes_identity_and_strict_host_key_as_run_does() -> None:
    done = recipe("replay", "--help")
    assert "--identity" in done.stdout and "--strict-host-key" in done.stdout
    done = recipe(
        "replay", "--dry-run", "--identity", "/nonexistent", "--strict-host-key", str(GOLDEN)
    )
    assert done.returncode == 0, done.stderr


def test_a_recipe_that_no_longer_renders_needs_recorded_commands(tmp_path: Path) -> None:
    path = _edited(tmp_path, "param: ", "param: nosuch=1\nparam: ")
    done = recipe("replay", "--dry-run", str(path))
    line = assert_one_line_error(
        done, "veth-pair", "cannot be rendered again", "--recorded-commands"
    )
    assert "nosuch" in line


def test_with_recorded_commands_the_listing_says_where_they_come_from(tmp_path: Path) -> None:
    path = _edited(tmp_path, "param: ", "param: nosuch=1\nparam: ")
    done = recipe("replay", "--dry-run", "--recorded-commands", str(path))
    assert done.returncode == 0, done.stderr
    assert "(recipe veth-pair)" not in done.stdout
    assert "commands recorded in the transcript" in done.stdout.splitlines()[0]
    data = json.loads(
        recipe("replay", "--dry-run", "--json", "--recorded-commands", str(path)).stdout
    )
    entry = data["transcripts"][0]
    assert entry["commands"] == "transcript" and entry["recipe_changed"] is None


def test_a_plain_script_transcript_needs_recorded_commands(tmp_path: Path) -> None:
    path = _edited(tmp_path, "recipe: veth-pair\n", "")
    done = recipe("replay", "--dry-run", str(path))
    assert_one_line_error(done, "--recorded-commands")


def test_the_dry_run_shows_every_line_of_a_multi_line_command(tmp_path: Path) -> None:
    path = _edited(tmp_path, "param: ", "param: nosuch=1\nparam: ")
    text = path.read_text(encoding="utf-8")
    first = re.search(r"command:\n  \| (.*)\n", text)
    assert first is not None
    path.write_text(
        text.replace(first.group(0), first.group(0) + "  | rm -rf /hidden-second-line\n", 1)
    )
    done = recipe("replay", "--dry-run", "--recorded-commands", str(path))
    assert done.returncode == 0, done.stderr
    assert "rm -rf /hidden-second-line" in done.stdout


DECOY = "ip netns list\x1b[2K\rreboot\u202e"


def test_the_dry_run_escapes_control_characters(tmp_path: Path) -> None:
    path = _edited(tmp_path, "param: ", "param: nosuch=1\nparam: ")
    text = path.read_text(encoding="utf-8")
    first = re.search(r"command:\n  \| (.*)\n", text)
    assert first is not None
    path.write_text(text.replace(first.group(1), DECOY, 1), encoding="utf-8")
    done = recipe("replay", "--dry-run", "--recorded-commands", str(path))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\r" not in done.stdout and "\u202e" not in done.stdout
    assert "ip netns list\\x1b[2K\\rreboot\\u202e" in done.stdout
    data = recipe("replay", "--dry-run", "--json", "--recorded-commands", str(path)).stdout
    assert DECOY in json.loads(data)["transcripts"][0]["steps"][0]["command"]  # JSON stays exact


def test_diff_escapes_control_characters(tmp_path: Path) -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    first = re.search(r"stdout:\n  \| (.*)\n", text)
    assert first is not None
    other = tmp_path / "other.transcript"
    other.write_text(
        text.replace(first.group(0), first.group(0) + "  | \x1b]0;owned\x07\u202egone\n", 1)
    )
    done = recipe("diff", "--color", "always", str(GOLDEN), str(other))
    assert done.returncode == 1, done.stderr
    assert "\\x1b]0;owned\\x07\\u202egone" in done.stdout
    assert "\x07" not in done.stdout and "\u202e" not in done.stdout
    plain = recipe("diff", "--color", "never", str(GOLDEN), str(other))
    assert "\x1b" not in plain.stdout


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\rb", "a\\rb"),
        ("\x1b[31m", "\\x1b[31m"),
        ("\x07\x08", "\\x07\\x08"),
        ("\x9b", "\\x9b"),
        ("\u202e\u2066", "\\u202e\\u2066"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("\x7f", "\\x7f"),
        ("plain ünïcode", "plain ünïcode"),
    ],
)
def test_visible_escapes_what_could_rewrite_the_screen(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert "\n" not in visible("a\nb", one_line=True)


def test_progress_lines_escape_the_command_and_output() -> None:
    import io

    from generator import transcript as tr
    from generator.lab import progress

    golden = tr.read(GOLDEN)
    step = golden.steps[0]
    from dataclasses import replace

    bad = replace(
        step, command=DECOY, stdout="\x1b[2Jcleared\n", verdict="FAIL", problems=("\x1b[1m",)
    )
    out = io.StringIO()
    progress.PlainProgress(out).step_finished(bad, 3)
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()
    assert "\\x1b[2Jcleared" in out.getvalue()
