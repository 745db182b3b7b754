"""recipe reach --raise-neigh-limit on two real namespaces: the kernel's neighbour table limits
raised while the prober runs and restored after, and one line, exit 2, when they cannot be set."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.errors import UserError
from generator.lab import neigh_limit, reach_matrix
from generator.shell import remote
from generator.shell.base import Result, Shell
from generator.shell.local import LocalShell
from generator.transcript.matrix import Matrix
from tests.cli_runner import assert_one_line_error, invoke

NAMES = ("rcp-rnl-a", "rcp-rnl-b")
IP = {NAMES[0]: "10.213.9.1", NAMES[1]: "10.213.9.2"}
ONLY = ("--only", "rcp-rnl-*", "--json", "--raise-neigh-limit")
FILES = [Path(neigh_limit.DIR) / name for name in neigh_limit.NAMES]
# Low soft limits, so that two namespaces' pairs need more; the hard limit stays as it is, so
# the host's own neighbours always have room while the test runs.
LOW = (1, 2)

pytestmark = pytest.mark.root


def limits() -> tuple[int, ...]:
    return tuple(int(f.read_text()) for f in FILES)


def sh(script: str) -> None:
    subprocess.run(["bash", "-c", script], capture_output=True, check=False)


@pytest.fixture
def two(clean_machine: None) -> Iterator[tuple[int, ...]]:
    """Two namespaces on one veth pair (nothing bridged, so no firewall rule is needed), with
    gc_thresh1/2 lowered; yields the limits the test starts from, and puts the real ones back."""
    real = limits()
    a, b = NAMES
    setup = [f"ip netns add {a}", f"ip netns add {b}"]
    setup.append(f"ip -n {a} link add eth0 type veth peer name eth0 netns {b}")
    for name in NAMES:
        setup += [f"ip -n {name} addr add {IP[name]}/24 dev eth0", f"ip -n {name} link set eth0 up"]
    try:
        subprocess.run(["bash", "-ec", "\n".join(setup)], check=True, capture_output=True)
        for file, value in zip(FILES, LOW, strict=False):
            file.write_text(str(value))
        yield limits()
    finally:
        for file, value in zip(reversed(FILES), reversed(real), strict=True):
            file.write_text(str(value))
        sh(f"ip netns del {a}; ip netns del {b}")


def test_the_limits_are_raised_during_the_probe_and_restored_after(
    two: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, ...]] = []
    take = reach_matrix.take

    def spy(*args: Any, **kwargs: Any) -> Matrix:
        seen.append(limits())
        return take(*args, **kwargs)

    monkeypatch.setattr(reach_matrix, "take", spy)
    done = invoke("reach", *ONLY)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert json.loads(done.stdout)["holds"] and len(json.loads(done.stdout)["pairs"]) == 2
    [during] = seen
    assert during[0] >= 2 and during[1] >= 2 * neigh_limit.SOFT  # 2 pairs, and what is in use
    assert during[2] == two[2]  # already big enough: never lowered
    assert limits() == two
    # without the flag nothing is touched
    seen.clear()
    assert invoke("reach", *ONLY[:-1]).returncode == 0
    assert seen == [two] and limits() == two


def test_an_error_in_the_body_still_restores_them(two: tuple[int, ...]) -> None:
    shell = LocalShell()
    broke = pytest.raises(RuntimeError, match="the probe broke")
    with shell, broke, neigh_limit.raised(shell, 10) as during:
        assert limits() == during and during[:2] > two[:2]
        raise RuntimeError("the probe broke")
    assert limits() == two


def test_a_value_the_kernel_refuses_is_one_line_and_undone(
    two: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # gc_thresh3 is set first and takes it; gc_thresh2 beyond an int is refused: undo both
    monkeypatch.setattr(neigh_limit, "SOFT", 2**31)
    line = assert_one_line_error(invoke("reach", *ONLY), "--raise-neigh-limit: cannot set")
    assert "Invalid argument" in line and "on local" in line
    assert limits() == two


class Nobody(LocalShell):
    """This machine's shell, each command run as the user nobody (with no sudo rights)."""

    def run(self, command: str, timeout: float) -> Result:
        wrapped = (
            f"setpriv --reuid=65534 --regid=65534 --clear-groups bash -c {shlex.quote(command)}"
        )
        return super().run(wrapped, timeout)


def test_without_root_it_is_one_line_and_nothing_changes(
    two: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = Nobody()
    wanted = pytest.raises(UserError, match="needs root, or sudo")
    with shell, wanted as raised, neigh_limit.raised(shell, 10_000):
        pytest.fail("the body ran without the limits raised")
    assert raised.value.exit_code == 2 and "\n" not in raised.value.message
    assert limits() == two

    def as_nobody(host: str, *_: object) -> Shell:
        return Nobody()

    # the whole command: the namespaces are read in-process, only the shell is nobody's
    monkeypatch.setattr(remote, "one", as_nobody)
    assert_one_line_error(invoke("reach", *ONLY), "cannot set", "sudo")
    assert limits() == two


def test_the_limits_asked_for_never_lower_one() -> None:
    assert neigh_limit.wanted((128, 512, 1024), 9_900) == (9_900, 19_800, 39_600)
    assert neigh_limit.wanted((128, 512, 1024), 6) == (128, 512, 1024)
    assert neigh_limit.wanted((4096, 100, 16384), 1_000) == (4096, 2_000, 16384)
