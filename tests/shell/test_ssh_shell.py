"""The SSH shell against real sshd's on the virtual nodes: steps, timeouts, host keys, faults."""

from __future__ import annotations

import dataclasses
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.hosts import nodes as hosts
from generator.hosts import nsprocs
from generator.lab.runner import Interrupted
from generator.shell.base import TIMEOUT_EXIT, SessionLost
from generator.shell.ssh import ConnectionLost, SSHShell
from generator.shell.ssh_connect import (
    AuthRefused,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    connect,
)
from generator.shell.ssh_target import SSHTarget, resolve

pytestmark = pytest.mark.root
NODE1 = hosts.NODES[0]


@pytest.fixture
def shell(virtual_nodes: None) -> Iterator[SSHShell]:
    with SSHShell(resolve(NODE1.name)) as opened:
        yield opened


def _fresh_target(tmp_path: Path) -> SSHTarget:
    """docker-node1 with an empty known_hosts of its own, as for a host never seen before."""
    return dataclasses.replace(resolve(NODE1.name), known_hosts=tmp_path / "known_hosts")


def test_streams_status_and_state_carry_over(shell: SSHShell) -> None:
    done = shell.run("echo out; echo err >&2; exit_with() { return $1; }; exit_with 3", 10)
    assert (done.stdout, done.stderr, done.exit) == ("out\n", "err\n", 3)
    shell.run("cd /tmp && LAB=vx", 10)
    assert shell.run("echo $PWD $LAB; exit_with 0", 10).stdout == "/tmp vx\n"
    assert shell.run("printf 'no newline'", 10).stdout == "no newline"
    assert shell.run("cat <<'EOF'\n$HOME stays\nEOF", 10).stdout == "$HOME stays\n"
    assert shell.run("cat", 10).stdout == ""  # a step never eats the shell's input
    assert shell.run("echo 'unclosed", 10).exit == 2  # a syntax error fails the step only
    assert shell.run("echo alive", 10).stdout == "alive\n"


def test_hanging_command_is_killed_at_its_timeout(shell: SSHShell) -> None:
    shell.run("sleep 300 & echo $! > /tmp/issue4-bg", 10)  # an earlier step's background job
    done = shell.run("echo started; sleep 60", 1.5)
    assert done.timed_out and done.exit == TIMEOUT_EXIT and not done
    assert done.stdout == "started\n"
    assert "timed out after" in done.stderr
    assert done.duration < 6
    assert shell.run("echo next", 10).stdout == "next\n"
    assert shell.run("kill -0 $(cat /tmp/issue4-bg) && echo bg-alive", 10).stdout == "bg-alive\n"
    shell.run("kill $(cat /tmp/issue4-bg); rm -f /tmp/issue4-bg", 10)


def test_a_stuck_shell_is_replaced(shell: SSHShell) -> None:
    done = shell.run("while :; do :; done", 1)
    assert done.timed_out and "restarted" in done.stderr
    assert shell.run("echo fresh", 10).stdout == "fresh\n"
    assert shell.restarts == 1


def test_exit_in_a_step_keeps_the_lab_going(shell: SSHShell) -> None:
    done = shell.run("echo bye; exit 4", 10)
    assert done.exit == 255 and done.stdout == "bye\n" and "exited with status 4" in done.stderr
    assert shell.run("hostname", 10).stdout == f"{NODE1.name}\n"


def test_interactive_step_over_a_pty(shell: SSHShell) -> None:
    done = shell.interact("sh", ["echo typed-$((6*7))", "hostname"], None, 20)
    assert done.exit == 0, done.stdout
    assert "typed-42" in done.stdout and NODE1.name in done.stdout
    container = shell.interact(
        "docker run --rm -it busybox sh", ["ip -o -4 addr show eth0 | wc -l"], None, 30
    )
    assert container.exit == 0 and "\n1\n" in container.stdout, container.stdout


def test_a_signal_during_an_interactive_step_keeps_the_screen_so_far(shell: SSHShell) -> None:
    def interrupt(signum: int, _frame: object) -> None:
        raise Interrupted(signum)  # as the runner's handler does

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 2.0)
    try:
        with pytest.raises(Interrupted) as stopped:
            shell.interact("sh", ["echo typed-$((6*7))", "sleep 30"], None, 20)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    partial = stopped.value.partial
    assert partial is not None and "typed-42" in partial.stdout and "sleep 30" in partial.stdout
    assert shell.run("echo still-here", 10).stdout == "still-here\n"


def test_new_host_key_is_accepted_once_then_a_changed_key_is_refused(
    virtual_nodes: None, tmp_path: Path
) -> None:
    target = _fresh_target(tmp_path)
    connect(target).close()
    first = target.known_hosts.read_text()
    assert first.startswith(f"{NODE1.address} ssh-ed25519 ")
    assert target.known_hosts.stat().st_mode & 0o077 == 0
    connect(target, strict=True).close()  # now known: strict mode accepts it
    assert target.known_hosts.read_text() == first

    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True
    )
    other = (tmp_path / "other.pub").read_text().split()
    target.known_hosts.write_text(f"{NODE1.address} {other[0]} {other[1]}\n")
    with pytest.raises(HostKeyChanged, match="CHANGED.*ssh-keygen -R 192.168.205.10"):
        connect(target)
    assert target.known_hosts.read_text().count("\n") == 1  # the old entry was not replaced


def test_strict_mode_refuses_an_unknown_key(virtual_nodes: None, tmp_path: Path) -> None:
    target = _fresh_target(tmp_path)
    with pytest.raises(HostKeyUnknown, match="not known and --strict-host-key"):
        connect(target, strict=True)
    assert not target.known_hosts.exists()


def test_refused_authentication(virtual_nodes: None, tmp_path: Path) -> None:
    key = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    target = dataclasses.replace(resolve(NODE1.name), identities=(str(key),))
    with pytest.raises(AuthRefused, match="refused authentication for user root"):
        connect(target)


def test_unreachable_hosts(virtual_nodes: None, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = SSHTarget("closed", "127.0.0.1", port, "root", known_hosts=tmp_path / "kh")
    with pytest.raises(HostUnreachable, match="Connection refused"):
        connect(closed, timeout=2)
    # An address on the nodes' own bridge where no node lives: nothing answers at all.
    silent = SSHTarget(
        "silent", "192.168.205.99", 22, "root", known_hosts=tmp_path / "kh", netns=str(hosts.SWITCH)
    )
    started = time.monotonic()
    with pytest.raises(HostUnreachable, match="silent"):
        connect(silent, timeout=1)
    assert time.monotonic() - started < 10


def _session_processes() -> list[int]:
    """The sshd processes serving connections on docker-node1: each sshd whose parent is sshd."""
    sshds = [pid for pid in hosts.members(NODE1) if _comm(pid) == "sshd"]
    return [pid for pid in sshds if _parent(pid) in sshds]


def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_connection_dropped_mid_run(shell: SSHShell) -> None:
    def drop() -> None:
        time.sleep(0.5)
        nsprocs.signal_all(_session_processes(), signal.SIGKILL)

    killer = threading.Thread(target=drop)
    killer.start()
    try:
        with pytest.raises(ConnectionLost, match="connection") as caught:
            shell.run("sleep 20", 30)
    finally:
        killer.join()
    assert isinstance(caught.value, SessionLost)
    with pytest.raises(ConnectionLost):
        shell.run("echo never", 5)


def test_per_step_overhead_is_small(shell: SSHShell) -> None:
    """Not a benchmark (bench/run_ssh.py is): a guard against a channel per command creeping in."""
    started = time.monotonic()
    for _ in range(200):
        shell.run(":", 10)
    assert (time.monotonic() - started) / 200 < 0.02
