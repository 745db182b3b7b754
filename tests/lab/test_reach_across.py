"""One matrix across two hosts, on the virtual nodes: the vxlan lab kept standing on
docker-node1 and docker-node2, probed by `recipe reach --host ... --host ...`; a DROP inside
one node's namespace is exit 1 naming exactly that pair."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.shell import remote

pytestmark = pytest.mark.root
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from generator.cli import main; main()"]
NODES = ("--host", "docker-node1", "--host", "docker-node2")
ONE, TWO = "docker-node1/vx-ns", "docker-node2/vx-ns"


def recipe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=300, check=False, cwd=ROOT
    )


def on_node2(command: str) -> None:
    with remote.one("docker-node2") as shell:
        done = shell.run(command, 30)
    assert done.exit == 0, done.stderr


@pytest.fixture
def vxlan_kept(
    virtual_nodes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("RECIPE_STATE_DIR", str(tmp_path / "labs"))
    done = recipe("run", "vxlan", *NODES, "--keep", "-q", "--record", str(tmp_path / "t"))
    try:
        assert done.returncode == 0, done.stderr
        yield
    finally:
        cleaned = recipe("clean", "vxlan")
        assert cleaned.returncode == 0, cleaned.stderr


def test_one_matrix_across_both_nodes_and_a_drop_names_its_pair(vxlan_kept: None) -> None:
    done = recipe("reach", *NODES, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["endpoints"] == [ONE, TWO]
    assert {(p["source"], p["target"], p["segment"]) for p in data["pairs"]} == {
        (ONE, TWO, "VXLAN 42"),
        (TWO, ONE, "VXLAN 42"),
    }
    # echo requests from node1's namespace only, dropped in node2's: one pair breaks
    on_node2("ip netns exec vx-ns iptables -A INPUT -s 10.42.0.1 -p icmp --icmp-type 8 -j DROP")
    done = recipe("reach", *NODES)
    assert done.returncode == 1, done.stdout + done.stderr
    wrong = [line for line in done.stdout.splitlines() if "likely cause" in line]
    assert len(wrong) == 1 and wrong[0].startswith(f"  {ONE} -> {TWO} (10.42.0.2)")
    assert f"a firewall rule in {TWO}: -A INPUT -s 10.42.0.1/32" in wrong[0]
    # a rule that expects it holds the matrix again
    assert recipe("reach", *NODES, "--rule", f"{ONE} -> {TWO}: no").returncode == 0
