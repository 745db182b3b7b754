"""`recipe hosts`: real namespaces, a real dockerd and sshd per node, reached with the tool's
key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator.hosts import inventory, nsprocs
from generator.hosts import nodes as hosts
from generator.lab import leftovers
from generator.shell.ssh import SSHShell
from generator.shell.ssh_target import resolve

pytestmark = pytest.mark.root
CLI = [sys.executable, "-c", "from generator.cli import main; main()"]


def _node_processes() -> set[int]:
    """Every process that belongs to any node, however it is matched."""
    found: set[int] = set()
    for node in hosts.NODES:
        netns = node.netns if node.netns.exists() else None
        found |= nsprocs.pids_matching(netns, f"/{node.cgroup}/") | hosts.members(node)
    return found


@pytest.mark.parametrize("node", hosts.NODES, ids=lambda n: n.name)
def test_node_is_reachable_with_the_tools_key(virtual_nodes: None, node: hosts.Node) -> None:
    target = resolve(node.name)
    assert (target.source, target.hostname, target.user) == ("inventory", node.address, "root")
    assert target.identities == (str(hosts.client_key()),)
    with SSHShell(target, strict_host_key=True) as shell:  # the inventory's known_hosts has the key
        assert shell.run("hostname", 10).stdout == f"{node.name}\n"
        info = shell.run("docker info --format '{{.Name}} {{.Images}}'", 30)
        assert info.exit == 0, info.stderr
        assert info.stdout.split() == [node.name, "1"]
        image = shell.run("docker run --rm busybox echo from-busybox", 30)
        assert image.stdout == "from-busybox\n", image.stderr
        assert shell.run("ip -br addr show eth0", 10).stdout.split()[2] == f"{node.address}/24"


def test_each_node_has_its_own_netns_registry(virtual_nodes: None) -> None:
    one, two = (SSHShell(resolve(node.name)) for node in hosts.NODES)
    with one, two:
        assert one.run("ip netns add issue4-probe", 10).exit == 0
        try:
            assert one.run("ip netns list", 10).stdout.split()[0] == "issue4-probe"
            assert "issue4-probe" not in two.run("ip netns list", 10).stdout
            assert not Path("/run/netns/issue4-probe").exists()
            # The same name in the other node does not collide.
            assert two.run("ip netns add issue4-probe && ip netns del issue4-probe", 10).exit == 0
        finally:
            one.run("ip netns del issue4-probe", 10)


def test_nodes_reach_each_other_over_the_bridge(virtual_nodes: None) -> None:
    with SSHShell(resolve("docker-node1")) as shell:
        done = shell.run("ping -c 2 -i 0.2 -W 1 192.168.205.11", 10)
    assert done.exit == 0 and " 0% packet loss" in done.stdout


def test_container_lookups_stay_local(virtual_nodes: None) -> None:
    """An unknown name is refused at once by the node's own dnsmasq, never sent off the machine."""
    with SSHShell(resolve("docker-node2")) as shell:
        done = shell.run("docker run --rm busybox nslookup no-such-name.example", 30)
    assert done.exit != 0
    assert "REFUSED" in done.stdout + done.stderr
    assert done.duration < 5


def test_up_is_idempotent_and_status_tells(virtual_nodes: None) -> None:
    keys = [(node.state / "ssh_host_ed25519_key.pub").read_text() for node in hosts.NODES]
    hosts.up()
    assert [(node.state / "ssh_host_ed25519_key.pub").read_text() for node in hosts.NODES] == keys
    assert all(state.running for state in hosts.status())
    done = subprocess.run([*CLI, "hosts", "status"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "docker-node1  192.168.205.10  up" in done.stdout


def test_down_leaves_nothing(virtual_nodes: None) -> None:
    hosts.down()
    before = leftovers.take_local()
    hosts.up()
    # The nodes live in namespaces of their own: this machine's listings do not change.
    assert leftovers.take_local().added_since(before) == []
    with SSHShell(resolve("docker-node1")) as shell:  # things inside a node that down must end too
        shell.run("docker run -d --name stays busybox sh -c 'while true; do sleep 3000; done'", 30)
        shell.run("ip netns add inner && ip netns exec inner sleep 300 &", 10)
        shell.run("sleep 300 &", 10)
    assert _node_processes()
    assert hosts.down() == []
    assert leftovers.take_local().added_since(before) == []
    assert _node_processes() == set()
    assert not inventory.state_dir().exists()
    assert not hosts.RUN_ROOT.exists()
    assert all(not node.netns.exists() for node in hosts.NODES) and not hosts.SWITCH.exists()
    rules = subprocess.run(
        ["iptables", "-w", "-S"], capture_output=True, text=True, check=True
    ).stdout
    assert "recipe-hosts" not in rules
    assert hosts.down() == []  # twice is fine
    statuses = subprocess.run(
        [*CLI, "hosts", "status"], capture_output=True, text=True, check=False
    )
    assert statuses.returncode == 1 and "down" in statuses.stdout
