"""The leftover check reads Docker through the SDK: the socket for this machine's shell, the
JSON a shell prints for any other, per role for a multi-host lab, and not at all for a lab
that never calls docker. Real containers, made here and removed in finally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.lab import leftovers
from generator.shell.local import LocalShell
from generator.shell.multi import RoleShells
from tests import busybox_image

ROOT = Path(__file__).resolve().parents[2]
CONTAINER, NETWORK = "rcp-left-c", "rcp-left-net"
LEFT = [("container", CONTAINER), ("network", NETWORK)]


def sh(script: str) -> None:
    subprocess.run(["bash", "-c", script], check=False, capture_output=True)


def docker_items(snapshot: leftovers.Snapshot) -> set[tuple[str, str]]:
    return {(kind, name) for kind, name in snapshot.items if kind in ("container", "network")}


@pytest.fixture
def left_container(clean_machine: None, docker_engine: None) -> Iterator[None]:
    """A container on a network of its own, as a lab that forgot its teardown leaves them."""
    busybox_image.ensure()
    try:
        yield
    finally:
        sh(f"docker rm -f {CONTAINER}; docker network rm {NETWORK}")


def _make_leftovers() -> None:
    done = subprocess.run(
        [
            "bash",
            "-ec",
            f"docker network create {NETWORK} >/dev/null; "
            f"docker run -d --name {CONTAINER} --network {NETWORK} busybox sleep 300 >/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.docker
def test_a_left_container_and_network_are_found_the_socket_way_and_the_json_way(
    left_container: None,
) -> None:
    with LocalShell() as shell:
        ways = {
            "socket": lambda: leftovers.take(shell.output_of),
            "json": lambda: leftovers.take(shell.output_of, docker_json=True),
            "take_local": leftovers.take_local,
        }
        before = {way: take() for way, take in ways.items()}
        _make_leftovers()
        after = {way: take() for way, take in ways.items()}
    for way in ways:  # links and rules come with them; those are the CLI's as before
        assert docker_items(after[way]) - docker_items(before[way]) == set(LEFT), way
    # Both ways read the same engine, so they see the same names, Docker's and the rest.
    assert after["socket"].items == after["json"].items == after["take_local"].items


@pytest.mark.docker
def test_each_role_of_a_multi_host_lab_is_read_and_prefixed(left_container: None) -> None:
    """Two roles on this machine: each finds the container, under its own role's name."""
    with LocalShell() as first, LocalShell() as second:
        shells = RoleShells({"a": first, "b": second})
        before = leftovers.take(shells.output_of)
        _make_leftovers()
        after = leftovers.take(shells.output_of, docker_json=True)
        plain = leftovers.parse(shells.output_of(leftovers.SNAPSHOT_COMMAND))
        no_docker = leftovers.take(shells.output_of, docker=False)
    assert docker_items(after) - docker_items(before) == {
        (kind, f"{role}:{name}") for role in "ab" for kind, name in LEFT
    }
    # The non-Docker part reads as RoleShells.output_of always prefixed it.
    assert no_docker == plain


def test_a_lab_without_docker_imports_no_docker_module() -> None:
    probe = (
        "import json, sys\n"
        "from generator.lab import leftovers\n"
        "from generator.shell.local import LocalShell\n"
        "with LocalShell() as shell:\n"
        "    leftovers.take(shell.output_of, docker=False)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert not {m for m in json.loads(done.stdout) if m.split(".")[0] in ("docker", "requests")}


def test_an_unreachable_engine_is_no_docker_state_not_a_traceback(tmp_path: Path) -> None:
    probe = (
        "from generator.lab import leftovers\n"
        "snap = leftovers.take_local()\n"
        "print(sorted(k for k, _ in snap.items if k in ('container', 'network')))\n"
    )
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0 and done.stdout == "[]\n", done.stderr
