"""The end-marker protocol (generator/shell/markers.py): its parsing on its own, then through real
bash, locally and over SSH, with reads cut so small that every marker arrives in pieces."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from generator.hosts import nodes as hosts
from generator.shell.local import LocalShell
from generator.shell.marker_shell import MarkerShell
from generator.shell.markers import Markers
from generator.shell.ssh import SSHShell
from generator.shell.ssh_target import resolve

LOOKALIKE = "__RECIPE_0123456789abcdef_0123456789abcdef__:0"


def test_what_bash_reads_never_holds_the_token() -> None:
    markers = Markers()
    wrapped = markers.wrap("echo hi; set -xv", prelude="export STEP=1\n")
    assert markers.token not in wrapped
    assert wrapped.startswith(b"export STEP=1\n{ eval 'echo hi; set -xv'\n} </dev/null\n")


def test_split_takes_the_status_and_keeps_what_follows() -> None:
    markers = Markers()
    out = b"hello\n" + markers.token + b":130\nlate out"
    err = b"oops\n" + markers.token + b"\nlate err"
    assert markers.split(out, err, markers.find(out), markers.find(err)) == (
        b"hello\n",
        b"oops\n",
        130,
    )
    assert markers.take_carry() == (bytearray(b"late out"), bytearray(b"late err"))
    assert markers.take_carry() == (bytearray(), bytearray())  # taken once


def test_a_marker_counts_once_its_line_is_whole() -> None:
    markers = Markers()
    seen = bytearray(b"output\n" + markers.token[:5])
    assert markers.find(seen) == -1
    start = markers.resume(seen)
    seen += markers.token[5:] + b":1"  # the status 130 cut after its first digit
    assert markers.find(seen, start) == -1
    start = markers.resume(seen)
    seen += b"30\n"
    assert markers.find(seen, start) == len(b"output\n")
    assert markers.split(seen, markers.token + b"\n", markers.find(seen), 0)[2] == 130


def test_a_lookalike_or_another_sessions_token_is_output() -> None:
    markers, other = Markers(), Markers()
    out = f"{LOOKALIKE}\n".encode() + other.token + b":9\n" + markers.token + b":4\n"
    at = markers.find(out)
    assert markers.split(out, markers.token + b"\n", at, 0) == (
        f"{LOOKALIKE}\n".encode() + other.token + b":9\n",
        b"",
        4,
    )
    assert markers.before(b"no marker yet") == b"no marker yet"
    assert markers.before(b"text" + markers.token + b":0\n") == b"text"


def _exercise(shell: MarkerShell) -> None:
    """Steps whose output, status and markers all come in pieces of shell.chunk bytes."""
    done = shell.run("echo out; echo err >&2; printf tail; (exit 130)", 20)
    assert (done.stdout, done.stderr, done.exit) == ("out\ntail", "err\n", 130)
    assert shell.run("X=kept; cd /tmp", 20).exit == 0
    assert shell.run("echo $X $PWD", 20).stdout == "kept /tmp\n"
    # Something that looks like a marker is the step's output, and the real status still counts.
    done = shell.run(f"echo '{LOOKALIKE}'; echo '{LOOKALIKE}' >&2; false", 20)
    assert (done.stdout, done.stderr, done.exit) == (f"{LOOKALIKE}\n", f"{LOOKALIKE}\n", 1)
    # A background job writing after its step ends belongs to a later step, not to the marker.
    shell.run("(sleep 0.3; echo later) &", 20)
    assert "later" in shell.run("sleep 0.6; echo now", 20).stdout


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_local_markers_split_across_reads(chunk: int) -> None:
    shell = LocalShell()
    shell.chunk = chunk
    with shell:
        _exercise(shell)
        assert shell.restarts == 0


def test_a_big_output_in_small_reads_keeps_every_byte() -> None:
    shell = LocalShell()
    shell.chunk = 4093  # not a divisor of anything bash writes
    with shell:
        done = shell.run("seq 1 200000", 30)
    expected = subprocess.run(["seq", "1", "200000"], capture_output=True, text=True, check=True)
    assert done.exit == 0 and done.stdout == expected.stdout


@pytest.fixture
def ssh_shell(virtual_nodes: None) -> Iterator[SSHShell]:
    shell = SSHShell(resolve(hosts.NODES[0].name))
    with shell:
        yield shell


@pytest.mark.root
def test_ssh_markers_split_across_reads(ssh_shell: SSHShell) -> None:
    ssh_shell.chunk = 3
    _exercise(ssh_shell)
    assert ssh_shell.restarts == 0
