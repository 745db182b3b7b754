"""`recipe run` stopped from outside: SIGINT, SIGTERM, SIGHUP (a closed terminal), a second signal
and kill -9; the teardown always runs to its end, and the transcript keeps what happened."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import termios
import time
from pathlib import Path

import pytest

from generator import transcript as tr
from tests.lab.lab_cli import NS, netns_names, recipe, start


def _start_veth_pair(count: int, path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return start("run", "veth-pair", "--set", f"count={count}", "--record", str(path), env=env)


def _partial(path: Path) -> Path | None:
    """The run's own `PATH.RANDOM.partial`, once it has made one."""
    found = tr.partials(path)
    assert len(found) <= 1, found
    return found[0] if found else None


def _wait_for_step(path: Path, count: int, proc: subprocess.Popen[str]) -> Path:
    """The partial file of the run recording to PATH, once it holds `count` steps."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partial = _partial(path)
        if partial is not None and partial.read_text().count("\nend step ") >= count:
            return partial
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{path}: the partial file never reached step {count}")


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_a_signal_mid_run_tears_down(
    clean_machine: None, tmp_path: Path, env: dict[str, str], signum: int, code: int
) -> None:
    path = tmp_path / "signal.transcript"
    # count=100 makes the first ping last 20 s: the signal lands in the middle of that step.
    proc = _start_veth_pair(count=100, path=path, env=env)
    _wait_for_step(path, 16, proc)
    time.sleep(0.5)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "stopping, then tearing down" in stderr
    assert not {"test1", "test2"} & netns_names()
    read = tr.read(path)
    assert read.status == "interrupted" and not read.complete
    assert read.outcome is not None and "during step 17 of 18" in read.outcome.reason
    assert len(read.main_steps) == 17 and len(read.teardown_steps) >= 2
    # The stopped step is recorded as interrupted, with the replies ping printed before it died.
    stopped = read.main_steps[-1]
    assert stopped.index == 17 and stopped.interrupted and stopped.verdict == "FAIL"
    assert stopped.problems[0].startswith(f"interrupted by {signal.Signals(signum).name} after ")
    assert "icmp_seq=1 " in stopped.stdout and "Killed" in stopped.stderr
    assert not any(s.interrupted for s in read.steps[:16] + read.teardown_steps)
    # The summary counts the lab's steps and the teardown's apart; the stopped step in neither.
    name = signal.Signals(signum).name
    teardown = len(read.teardown_steps)
    assert (
        f"interrupted by {name} during step 17 of 18: 16 ok; teardown {teardown} ok in " in stderr
    )
    assert "[17/18] stopped" in stderr
    # The stopped step's end (bash's "Killed" note, its status) does not spill into the teardown.
    first = read.teardown_steps[0]
    assert (first.exit, first.stdout, first.stderr) == (0, "", "")
    assert not tr.partials(path)


def test_a_signal_during_an_interactive_step_keeps_its_screen(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    script = tmp_path / "session.sh"
    script.write_text(
        "#@ steps\necho first\n\n"
        "#@ interactive sh\nsh <<'EOF'\necho typed-$((6*7))\nsleep 30\nEOF\n"
    )
    path = tmp_path / "session.transcript"
    proc = start("run", str(script), "--record", str(path), env=env)
    _wait_for_step(path, 1, proc)
    time.sleep(1.5)  # the session is in `sleep 30` by now
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    stopped = tr.read(path).main_steps[-1]
    assert stopped.index == 2 and stopped.interrupted and stopped.interactive == "sh"
    # What the person saw until Ctrl-C: the echo of both lines and the first one's output.
    assert "typed-42" in stopped.stdout and "sleep 30" in stopped.stdout, stopped.stdout


def test_closing_the_terminal_tears_down(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    """The real SIGHUP: recipe runs on a terminal, which then goes away (its master side closes,
    as when the window closes or the SSH login drops). The kernel sends SIGHUP, and from then on
    every progress write fails with EIO; the teardown must run all the same."""
    script = tmp_path / "hup.sh"
    script.write_text(
        f"#@ teardown\nteardown() {{\n  ip netns delete {NS} 2>/dev/null\n}}\n#@ end-teardown\n"
        f"#@ steps\nip netns add {NS}\n\nsleep 60\n"
    )
    path = tmp_path / "hup.transcript"
    master, slave = os.openpty()

    def take_the_terminal() -> None:  # after setsid: the pty becomes the controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        ["recipe", "run", str(script), "--record", str(path)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=take_the_terminal,  # noqa: PLW1509 - the child only takes its terminal
    )
    os.close(slave)
    try:
        os.set_blocking(master, False)
        deadline = time.monotonic() + 60
        while not ((partial := _partial(path)) and "\nend step 1\n" in partial.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline
            try:
                os.read(master, 65536)  # keep the terminal's buffer from filling
            except BlockingIOError:
                time.sleep(0.05)
        time.sleep(0.3)
    finally:
        os.close(master)  # the terminal goes away
    assert proc.wait(timeout=60) == 129
    assert NS not in netns_names()
    read = tr.read(path)
    assert read.status == "interrupted" and read.outcome is not None
    assert "interrupted by SIGHUP during step 2 of 2" in read.outcome.reason
    assert read.main_steps[-1].interrupted
    assert [s.command for s in read.teardown_steps] == [f"ip netns delete {NS} 2>/dev/null"]
    assert read.teardown_steps[0].verdict == "ok"


def test_a_killed_run_leaves_a_readable_partial_and_clean_removes_the_lab(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "killed.transcript"
    proc = _start_veth_pair(count=20, path=path, env=env)
    try:
        partial = _wait_for_step(path, 16, proc)
        proc.kill()  # no handler runs: as after a crash
        proc.communicate(timeout=30)
        read = tr.read(partial)
        assert read.status == "incomplete" and read.outcome is None and len(read.main_steps) == 16
        assert not path.exists()
        assert "test1" in netns_names()
    finally:
        cleaned = recipe("clean", "veth-pair", env=env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not {"test1", "test2"} & netns_names()
    again = recipe("clean", "veth-pair", env=env)  # twice is harmless
    assert again.returncode == 0, again.stderr
    _wait_for_orphan_ping()


def _wait_for_orphan_ping() -> None:
    """The killed run's bash finishes its ping (at most 4 s) in a namespace that is now gone."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(
            ["pgrep", "-f", "ping -c 20 -i 0.2"], capture_output=True, check=False
        ).returncode:
            return
        time.sleep(0.2)


def test_a_second_signal_does_not_cut_the_teardown_short(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    mark = tmp_path / "teardown-started"
    script = tmp_path / "slow-teardown.sh"
    script.write_text(
        "#@ teardown\nteardown() {\n"
        f"  touch {mark}; sleep 2\n  ip netns delete {NS} 2>/dev/null\n}}\n#@ end-teardown\n"
        f"#@ steps\nip netns add {NS}\n\nsleep 60\n"
    )
    path = tmp_path / "slow.transcript"
    proc = start("run", str(script), "--record", str(path), env=env)
    _wait_for_step(path, 1, proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 20
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "still tearing down; SIGINT again is ignored until it finishes" in stderr
    assert NS not in netns_names()
    read = tr.read(path)
    assert read.status == "interrupted"
    assert [s.command.split("\n")[0] for s in read.teardown_steps] == [
        f"touch {mark}; sleep 2",
        f"ip netns delete {NS} 2>/dev/null",
    ]


def test_ctrl_c_during_the_teardown_finishes_it_and_exits_130(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    """Every lab step passed; Ctrl-C, twice, while the teardown runs: the teardown still runs to
    the end, but the run does not read as a success (issue 9)."""
    mark = tmp_path / "teardown-started"
    script = tmp_path / "slow-teardown.sh"
    script.write_text(
        "#@ teardown\nteardown() {\n"
        f"  touch {mark}; sleep 1.5\n  sleep 0.5\n  ip netns delete {NS} 2>/dev/null\n}}\n"
        f"#@ end-teardown\n#@ steps\nip netns add {NS}\n\nip netns list\n"
    )
    path = tmp_path / "teardown.transcript"
    proc = start("run", str(script), "--record", str(path), env=env)
    deadline = time.monotonic() + 30
    while not mark.exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.count("still tearing down; SIGINT again is ignored until it finishes") == 2
    assert NS not in netns_names()
    read = tr.read(path)
    assert read.complete and read.status == "interrupted", read.outcome
    assert read.outcome is not None
    assert read.outcome.reason == "interrupted by SIGINT during the teardown, which finished"
    assert [s.verdict for s in read.main_steps] == ["ok", "ok"]
    assert len(read.teardown_steps) == 3 and all(s.verdict == "ok" for s in read.teardown_steps)
    assert (
        "interrupted by SIGINT during the teardown, which finished: 2 ok; teardown 3 ok" in stderr
    )
