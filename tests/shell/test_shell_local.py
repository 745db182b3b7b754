"""The local shell: one persistent bash, streams kept apart, timeouts that spare the shell."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.shell.base import TIMEOUT_EXIT
from generator.shell.local import LocalShell
from generator.shell.procs import descendants


@pytest.fixture
def shell() -> Iterator[LocalShell]:
    with LocalShell() as session:
        yield session


def test_state_carries_over_between_commands(shell: LocalShell, tmp_path: Path) -> None:
    assert shell.run(f"cd {tmp_path} && X=42 && f() {{ echo f$1; }}", 5)
    result = shell.run("pwd; echo $X; f 1", 5)
    assert result.stdout == f"{tmp_path}\n42\nf1\n"
    assert shell.restarts == 0


def test_stdout_stderr_and_exit_status_are_separate(shell: LocalShell) -> None:
    result = shell.run(
        "echo out; echo err >&2; printf tail; exit_with() { return $1; }; exit_with 7", 5
    )
    assert (result.stdout, result.stderr, result.exit) == ("out\ntail", "err\n", 7)
    assert not result and not result.timed_out


def test_multiline_commands_heredocs_and_loops(shell: LocalShell) -> None:
    result = shell.run("for i in 1 2; do\n  echo $i\ndone\ncat <<'EOF'\n$HOME stays\nEOF", 5)
    assert result.stdout == "1\n2\n$HOME stays\n"


def test_a_step_cannot_read_the_commands_that_follow(shell: LocalShell) -> None:
    assert shell.run("cat", 5).stdout == ""  # stdin is /dev/null, not our pipe
    assert shell.run("echo still here", 5).stdout == "still here\n"


def test_a_syntax_error_fails_the_step_not_the_shell(shell: LocalShell) -> None:
    shell.run("Y=1", 5)
    result = shell.run("if then", 5)
    assert result.exit == 2 and "syntax error" in result.stderr
    assert shell.run("echo $Y", 5).stdout == "1\n" and shell.restarts == 0


def test_set_x_does_not_fool_the_end_marker(shell: LocalShell) -> None:
    shell.run("set -xv", 5)
    result = shell.run("echo traced", 5)
    assert result.stdout == "traced\n" and result.exit == 0


def test_timeout_kills_the_step_and_the_shell_survives(shell: LocalShell, tmp_path: Path) -> None:
    pid_file = tmp_path / "bg.pid"
    shell.run(f"Z=kept; sleep 300 & echo $! > {pid_file}", 5)
    started = time.monotonic()
    result = shell.run("sleep 300 | cat", 1)
    assert result.timed_out and result.exit == TIMEOUT_EXIT
    assert time.monotonic() - started < 4
    assert shell.run("echo $Z", 5).stdout == "kept\n"
    # The background job of an earlier step was not the timed-out step's: it still runs.
    background = int(pid_file.read_text())
    assert shell.pid is not None
    sleeping = [p for p in descendants(shell.pid) if b"sleep" in _cmdline(p)]
    assert sleeping == [background]
    shell.close()  # closing the session ends its background jobs too
    # SIGKILL is sent by then; the kernel may take a moment to carry it out.
    deadline = time.monotonic() + 2
    while _alive(background) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(background)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_busy_builtin_past_its_timeout_restarts_the_shell(shell: LocalShell) -> None:
    result = shell.run("while :; do :; done", 0.5)
    assert result.timed_out and "restarted" in result.stderr
    assert shell.run("echo back", 5).stdout == "back\n" and shell.restarts == 1


def test_exit_in_a_step_reports_its_status_and_restarts(shell: LocalShell) -> None:
    result = shell.run("exit 3", 5)
    assert result.exit == 3 and "exited" in result.stderr
    assert shell.run("echo again", 5).stdout == "again\n"


def test_interrupt_mid_step_leaves_the_shell_usable(shell: LocalShell) -> None:
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            shell.run("sleep 300", 30)
    finally:
        signal.signal(signal.SIGALRM, old)
    assert shell.run("echo after", 5).stdout == "after\n"


def test_per_step_overhead_is_small(shell: LocalShell) -> None:
    # Not a benchmark (bench/ has that): a guard against an accidental sleep or a process per step.
    started = time.perf_counter()
    for _ in range(200):
        shell.run(":", 5)
    assert (time.perf_counter() - started) / 200 < 0.005


def test_facts_describe_this_machine(shell: LocalShell) -> None:
    from generator.transcript.facts import gather

    facts = gather(shell.output_of)
    assert facts.kernel == os.uname().release
    assert facts.host == os.uname().nodename
