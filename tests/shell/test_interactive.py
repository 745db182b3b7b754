"""Interactive steps: the text handling without a pty, then real sessions in a pty (sh, docker)."""

from __future__ import annotations

import shlex
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from generator.shell.local import LocalShell
from generator.shell.pty import PromptWatcher, Screen, clean
from generator.shell.pty_local import drive
from tests import busybox_image

BUSYBOX_START = "/ # \x1b[6n\r/ # \x1b[J"


def test_clean_removes_escapes_and_redraws() -> None:
    assert clean(BUSYBOX_START) == "/ # "
    assert clean("a\r\nb\r\n") == "a\nb\n"
    assert clean("\x1b]0;title\x07root@c0ffee:/# ") == "root@c0ffee:/# "
    assert clean("progress 10%\rprogress 100%\r\n") == "progress 100%\n"


@pytest.mark.parametrize(
    ("text", "is_prompt"),
    [
        ("# ", True),
        ("$ ", True),
        ("root@c0ffee:/# ", True),
        (BUSYBOX_START, True),
        ("bash-5.2$ ", True),
        ("Loading...\n", False),
        ("64 bytes from 1.2.3.4", False),
    ],
)
def test_shell_prompts_across_images(text: str, is_prompt: bool) -> None:
    assert PromptWatcher().ends_in_prompt(text) is is_prompt


def test_a_custom_prompt_regex() -> None:
    watcher = PromptWatcher.for_prompt(r"telnet> ")
    assert watcher.ends_in_prompt("Escape character is '^]'.\ntelnet> ")
    assert not watcher.ends_in_prompt("# ")


def test_screen_accumulates_clean_text() -> None:
    screen = Screen()
    screen.add("banner\r\n/ # ")
    screen.add("echo hi\r\nhi\r\n/ # ")
    assert screen.text == "banner\n/ # echo hi\nhi\n/ # "
    assert screen.last_line() == "/ # "


def test_local_sh_session_records_prompt_echo_and_output() -> None:
    result = drive("sh", ["X=5", "echo value $X", "cd /tmp", "pwd"], None, 20)
    assert result.exit == 0 and not result.timed_out
    assert result.stdout.startswith("# X=5\n# echo value $X\nvalue 5\n")
    assert "# pwd\n/tmp\n# exit\n" in result.stdout
    assert "recipe-" not in result.stdout  # our PS1 marker never shows


def test_exit_status_is_that_of_the_last_line() -> None:
    result = drive("sh", ["true", "ls /nonexistent-recipe-test"], None, 20)
    assert result.exit != 0 and "No such file" in result.stdout


def test_a_program_that_ends_before_its_prompt() -> None:
    result = drive("echo gone; exit 4", ["echo never"], None, 10)
    assert result.exit == 4 and result.stdout.strip() == "gone"


def test_a_hung_line_times_out() -> None:
    result = drive("sh", ["sleep 30"], None, 1.5)
    assert result.timed_out and "sleep 30" in result.stdout


def test_a_custom_prompt_program() -> None:
    result = drive("python3 -q -i", ["1 + 41"], r">>> ", 20)
    assert result.exit == 0 and ">>> 1 + 41\n42\n>>> " in result.stdout


def test_local_shell_interact_spawns_in_the_shell_directory(tmp_path: object) -> None:
    with LocalShell() as shell:
        shell.run(f"cd {tmp_path}", 5)
        result = shell.interact("sh", ["pwd"], None, 20)
    assert f"# pwd\n{tmp_path}\n" in result.stdout


@pytest.fixture
def busybox_container(docker_engine: None, clean_machine: None) -> Iterator[str]:
    name = "recipe-it-" + uuid.uuid4().hex[:8]
    busybox_image.ensure()
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "busybox",
            "/bin/sh",
            "-c",
            "while true; do sleep 3000; done",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield name
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def test_docker_exec_session_in_busybox(busybox_container: str) -> None:
    result = drive(
        f"docker exec -it {busybox_container} /bin/sh",
        ["echo hi from $(hostname)", "ping -c 1 -W 1 127.0.0.1"],
        None,
        30,
    )
    assert result.exit == 0, result.stdout
    assert "/ # echo hi from $(hostname)\nhi from " in result.stdout
    assert "1 packets transmitted, 1 packets received" in result.stdout
    assert result.stdout.endswith("/ # exit\n")
    assert "\x1b" not in result.stdout and "\r" not in result.stdout


def test_docker_exec_failing_line(busybox_container: str) -> None:
    result = drive(
        f"docker exec -it {busybox_container} /bin/sh", ["ping -c 1 -W 1 nosuchname"], None, 30
    )
    assert result.exit != 0 and "bad address 'nosuchname'" in result.stdout


def test_an_interactive_bash_with_its_own_prompt_and_escapes() -> None:
    # bash -i draws `bash-5.2# ` and turns bracketed paste on and off around every prompt.
    result = drive("bash --norc -i", ["cd /tmp", "echo in $PWD", "false"], None, 20)
    assert result.exit == 1
    assert result.stdout.startswith("bash-")
    assert "# echo in $PWD\nin /tmp\n" in result.stdout and "\x1b" not in result.stdout


def test_a_cursor_position_query_gets_a_terminal_answer() -> None:
    # The program waits for the answer before it prompts, as busybox ash's line editor may.
    script = (
        "stty -echo; printf 'ask\\033[6n'; IFS= read -r -d R pos; stty echo;"
        ' printf "\\nanswer=%s\\n> " "${pos#?}"; read -r line; echo "typed $line"'
    )
    result = drive(f"bash -c {shlex.quote(script)}", ["hello"], r"> ", 10)
    assert not result.timed_out, result.stdout
    assert "answer=[1;1\n> hello\ntyped hello\n" in result.stdout, result.stdout
