"""`recipe record` through a real pty, as a person types: steps, transcript, script, teardown and
replay; and its refusals of bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

from generator import transcript
from generator.cli import app
from generator.lab import script as script_format


@pytest.fixture(autouse=True)
def lab_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept-lab records of the replays go to the test's own folder."""
    monkeypatch.setenv("RECIPE_STATE_DIR", str(tmp_path / "labs"))


RECIPE = str(Path(sys.executable).with_name("recipe"))
PROMPT = r"\(recording\) [^\r\n]*[#$] "
NS = "rcp-rec-a"


def _spawn(tmp_path: Path) -> pexpect.spawn[str]:
    argv = ["record", "-o", str(tmp_path / "lab.sh"), "--record", str(tmp_path / "t.transcript")]
    child = pexpect.spawn(RECIPE, argv, cwd=str(tmp_path), encoding="utf-8", timeout=20)
    child.expect(PROMPT)
    return child


def _type(child: pexpect.spawn[str], line: str) -> None:
    child.send(line + "\r")
    child.expect(PROMPT)


def _session(child: pexpect.spawn[str]) -> None:
    _type(child, f"ip netns add {NS}")
    _type(child, "ip nets list")  # a typo: ip says the object is unknown, exit 255
    _type(child, "")  # an empty line is no step
    _type(child, "ls /rcp-rec-nowhere")
    _type(child, "cd /tmp")
    _type(child, 'X=5; echo "x=$X"')
    child.send("echo lne-edited" + "\x1b[D" * 9 + "i\r")  # fix a typo
    child.expect(PROMPT)
    _type(child, "for i in 1 2\ndo echo item-$i\ndone")
    child.send("sleep 30\r")
    time.sleep(1.0)
    child.send("\x03")  # Ctrl-C reaches sleep, not recipe
    child.expect(PROMPT)
    _type(child, "echo after-ctrl-c")
    child.send("exit\r")
    child.expect(pexpect.EOF, timeout=60)
    child.close()


def test_a_session_becomes_a_script_a_transcript_and_a_clean_machine(
    clean_machine: None, tmp_path: Path
) -> None:
    child = _spawn(tmp_path)
    _session(child)
    assert child.exitstatus == 0, child.before
    assert not Path(f"/run/netns/{NS}").exists()  # the teardown ran
    read = transcript.read(tmp_path / "t.transcript")
    steps = read.main_steps
    commands = [s.command for s in steps]
    assert commands == [
        f"ip netns add {NS}",
        "ip nets list",
        "ls /rcp-rec-nowhere",
        "cd /tmp",
        'X=5; echo "x=$X"',
        "echo line-edited",
        "for i in 1 2\ndo echo item-$i\ndone",
        "sleep 30",
        "echo after-ctrl-c",
    ]
    exits = [s.exit for s in steps]
    assert exits[0] == 0 and exits[1] != 0 and exits[2] == 2 and exits[7] == 130
    assert "x=5" in steps[4].stdout and "\x1b" not in steps[4].stdout
    assert steps[5].stdout == "line-edited\n"
    assert steps[6].stdout == "item-1\nitem-2\n"
    assert 0.5 < steps[7].duration < 10
    assert [s.command for s in read.teardown_steps] == [f"ip netns delete {NS} 2>/dev/null"]
    assert read.status == "passed" and not read.outcome.leftovers  # type: ignore[union-attr]
    _check_script(tmp_path / "lab.sh")


def _check_script(path: Path) -> None:
    parsed = script_format.load(path)
    steps = parsed.steps
    assert steps[0].command == f"ip netns add {NS}"
    assert steps[1].expect.exit not in (0, "any") and steps[2].expect.exit == 2
    assert steps[6].command == "{\nfor i in 1 2\ndo echo item-$i\ndone\n}"
    assert steps[7].command.startswith("timeout -s INT --preserve-status ")
    assert steps[7].command.endswith(" sleep 30") and steps[7].expect.exit == 130
    assert [s.command for s in parsed.teardown] == [f"ip netns delete {NS} 2>/dev/null"]
    assert parsed.guards and NS in parsed.guards[0][1]
    replay = subprocess.run(
        [RECIPE, "run", str(path), "--no-record", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert replay.returncode == 0, replay.stderr
    assert not Path(f"/run/netns/{NS}").exists()


def test_keep_leaves_the_lab_and_clean_removes_it(clean_machine: None, tmp_path: Path) -> None:
    child = pexpect.spawn(
        RECIPE,
        ["record", "--keep", "-o", "lab.sh", "--record", "t.transcript"],
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=20,
    )
    child.expect(PROMPT)
    _type(child, f"ip netns add {NS}")
    child.send("\x04")  # Ctrl-D ends the session as exit does
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    try:
        assert child.exitstatus == 0
        assert Path(f"/run/netns/{NS}").exists()
        assert "left standing: netns rcp-rec-a" in str(child.before)
    finally:
        subprocess.run([RECIPE, "clean", str(tmp_path / "lab.sh"), "-q"], check=False)
    assert not Path(f"/run/netns/{NS}").exists()


def test_sigterm_saves_what_was_typed_and_tears_down(clean_machine: None, tmp_path: Path) -> None:
    child = _spawn(tmp_path)
    _type(child, f"ip netns add {NS}")
    assert child.pid is not None
    os.kill(child.pid, 15)
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    assert child.exitstatus == 143
    assert not Path(f"/run/netns/{NS}").exists()
    read = transcript.read(tmp_path / "t.transcript")
    assert read.status == "interrupted"
    assert [s.command for s in read.main_steps] == [f"ip netns add {NS}"]


def test_record_on_a_virtual_node(virtual_nodes: None, tmp_path: Path) -> None:
    from generator.shell.remote import one

    argv = ["record", "--host", "docker-node1", "-o", "lab.sh", "--record", "t.transcript"]
    child = pexpect.spawn(RECIPE, argv, cwd=str(tmp_path), encoding="utf-8", timeout=30)
    child.expect(PROMPT)
    _type(child, "ip netns add rcp-rec-r")
    _type(child, "hostname")
    _type(child, "ip nets list")
    child.send("exit\r")
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    assert child.exitstatus == 0, child.before
    read = transcript.read(tmp_path / "t.transcript")
    assert read.header.target == "docker-node1"
    steps = read.main_steps
    assert [s.command for s in steps] == ["ip netns add rcp-rec-r", "hostname", "ip nets list"]
    assert steps[1].stdout == "docker-node1\n" and steps[2].exit != 0
    assert [s.command for s in read.teardown_steps] == ["ip netns delete rcp-rec-r 2>/dev/null"]
    with one("docker-node1") as node:
        assert "rcp-rec-r" not in node.output_of("ip netns list")
        assert "recipe-record." not in node.output_of("ls /tmp")  # the private folder is gone


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-o", "/rcp-rec-missing/lab.sh"], "directory /rcp-rec-missing does not exist"),
        (["-o", "/tmp"], "-o /tmp: is a directory"),
        (["--record", "/tmp"], "--record /tmp: is a directory"),
    ],
)
def test_bad_paths_are_one_line_and_exit_2(args: list[str], says: str, tmp_path: Path) -> None:
    child = pexpect.spawn(RECIPE, ["record", *args], cwd=str(tmp_path), encoding="utf-8")
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    assert child.exitstatus == 2
    lines = str(child.before).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recipe: ") and says in lines[0], lines


def test_no_terminal_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [RECIPE, "record"], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == "recipe: recipe record needs a terminal: run it in one, with no redirection\n"
    )


def test_no_terminal_through_clirunner() -> None:
    done = runner.invoke(app, ["record"])
    assert done.exit_code == 2
    assert "recipe record needs a terminal" in done.output
