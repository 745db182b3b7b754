"""The pty driver over SSH (generator/shell/pty.py with pty_ssh.ChannelPty), against the real sshd
of a virtual node: the screen, statuses, prompts, timeouts and the terminal's answers."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator

import pytest

from generator.hosts import nodes as hosts
from generator.shell.base import TIMEOUT_EXIT
from generator.shell.ssh import SSHShell
from generator.shell.ssh_target import resolve

pytestmark = pytest.mark.root
NODE1 = hosts.NODES[0]


@pytest.fixture
def shell(virtual_nodes: None) -> Iterator[SSHShell]:
    with SSHShell(resolve(NODE1.name)) as opened:
        yield opened


def test_the_screen_shows_prompt_echo_output_and_exit(shell: SSHShell) -> None:
    shell.run("cd /tmp", 10)
    done = shell.interact("sh", ["X=5", "echo value $X", "pwd"], None, 20)
    assert done.exit == 0 and not done.timed_out, done.stdout
    # The same screen a local pty gives: the program's own prompt, never our PS1 marker.
    assert done.stdout.startswith("# X=5\n# echo value $X\nvalue 5\n"), done.stdout
    assert done.stdout.endswith("# pwd\n/tmp\n# exit\n"), done.stdout
    assert "recipe-" not in done.stdout and "\x1b" not in done.stdout and "\r" not in done.stdout


def test_the_status_is_that_of_the_last_line(shell: SSHShell) -> None:
    done = shell.interact("sh", ["true", "ls /nonexistent-recipe-test"], None, 20)
    assert done.exit != 0 and "No such file" in done.stdout


def test_a_program_that_ends_before_its_prompt(shell: SSHShell) -> None:
    done = shell.interact("sh -c 'echo gone; exit 4'", ["echo never"], None, 10)
    assert done.exit == 4 and done.stdout.strip() == "gone"


def test_a_custom_prompt_program_ends_with_ctrl_d(shell: SSHShell) -> None:
    done = shell.interact("python3 -q -i", ["1 + 41"], r">>> ", 20)
    assert done.exit == 0 and ">>> 1 + 41\n42\n>>> " in done.stdout, done.stdout


def test_a_hung_line_times_out_and_the_program_is_hung_up(shell: SSHShell) -> None:
    started = time.monotonic()
    done = shell.interact("sh", ["sleep 31.25"], None, 1.5)
    assert done.timed_out and done.exit == TIMEOUT_EXIT and "sleep 31.25" in done.stdout
    assert time.monotonic() - started < 8
    # Closing the channel hangs up the remote pty: nothing of the session stays behind.
    for _ in range(50):
        if shell.run("pgrep -f 'sleep 31[.]25' || true", 10).stdout == "":
            break
        time.sleep(0.1)
    assert shell.run("pgrep -f 'sleep 31[.]25' || true", 10).stdout == ""
    assert shell.run("echo still-here", 10).stdout == "still-here\n"


def test_a_cursor_position_query_gets_a_terminal_answer(shell: SSHShell) -> None:
    # The program waits for the answer before it prompts, as busybox ash's line editor may.
    script = (
        "stty -echo; printf 'ask\\033[6n'; IFS= read -r -d R pos; stty echo;"
        ' printf "\\nanswer=%s\\n> " "${pos#?}"; read -r line; echo "typed $line"'
    )
    done = shell.interact(f"bash -c {shlex.quote(script)}", ["hello"], r"> ", 10)
    assert not done.timed_out, done.stdout
    assert "answer=[1;1\n> hello\ntyped hello\n" in done.stdout, done.stdout
