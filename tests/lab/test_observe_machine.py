"""The snapshot of real namespaces, links and containers, made here and removed in finally."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from generator.lab import observe
from generator.shell.local import LocalShell
from generator.transcript.state import Namespace, Peer, Snapshot
from tests import busybox_image
from tests.cli_runner import assert_one_line_error, invoke

pytestmark = pytest.mark.root
A, B = "rcp-obs-a", "rcp-obs-b"
SETUP = f"""
ip netns add {A}; ip netns add {B}
ip -n {A} link add rcp-obs-va type veth peer name rcp-obs-vb netns {B}
ip -n {A} link add rcp-obs-br type bridge
ip -n {A} link set rcp-obs-va master rcp-obs-br
ip -n {A} link add rcp-obs-vx type vxlan id 42 remote 10.99.0.2 dev rcp-obs-br dstport 4789
ip -n {A} addr add 10.99.0.1/24 dev rcp-obs-br
ip -n {B} addr add 10.99.0.2/24 dev rcp-obs-vb
ip -n {A} link set rcp-obs-br up; ip -n {A} link set rcp-obs-va up; ip -n {B} link set rcp-obs-vb up
ip -n {B} route add default via 10.99.0.1
"""


def sh(script: str) -> None:
    subprocess.run(["bash", "-c", script], check=False, capture_output=True)


@pytest.fixture
def two_namespaces(clean_machine: None) -> Iterator[None]:
    try:
        done = subprocess.run(["bash", "-ec", SETUP], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        yield
    finally:
        sh(f"ip netns del {A}; ip netns del {B}")


def take(docker_json: bool | None = None) -> Snapshot:
    with LocalShell() as shell:
        return observe.take(shell, docker_json=docker_json)


def test_a_veth_peer_bridge_vxlan_and_addresses_across_namespaces(two_namespaces: None) -> None:
    snap = take()
    a, b = snap.namespace(f"netns:{A}"), snap.namespace(f"netns:{B}")
    assert a is not None and b is not None
    va, vb = a.link("rcp-obs-va"), b.link("rcp-obs-vb")
    assert va is not None and vb is not None
    assert va.peer == Peer(f"netns:{B}", "rcp-obs-vb")
    assert vb.peer == Peer(f"netns:{A}", "rcp-obs-va")
    assert a.bridge_ports() == {"rcp-obs-br": ("rcp-obs-va",)}
    vx = a.link("rcp-obs-vx")
    assert vx is not None and vx.vxlan is not None
    assert (vx.vxlan.vni, vx.vxlan.remote, vx.vxlan.device, vx.vxlan.port) == (
        42,
        "10.99.0.2",
        "rcp-obs-br",
        4789,
    )
    kinds = {link.ifname: link.kind for link in a.links}
    assert (kinds["rcp-obs-br"], kinds["rcp-obs-va"], kinds["lo"]) == ("bridge", "veth", "loopback")
    # inet only: the link-local inet6 address comes a moment after the link goes up
    vb_addresses = [x.cidr for x in b.addresses if x.ifname == "rcp-obs-vb" and x.family == "inet"]
    assert vb_addresses == ["10.99.0.2/24"]
    assert any(r.dst == "default" and r.gateway == "10.99.0.1" for r in b.routes)
    assert va.state == "UP" and len(vb.mac) == 17 and vb.mtu == 1500 and vx.mtu == 1450


@pytest.mark.docker
def test_a_container_on_a_user_defined_network(clean_machine: None, docker_engine: None) -> None:
    busybox_image.ensure()
    try:
        sh(
            "docker network create rcp-obs-net >/dev/null && docker run -d --name rcp-obs-c "
            "--network rcp-obs-net busybox sleep 300 >/dev/null"
        )
        for snap in (take(), take(docker_json=True)):  # the SDK's socket and the remote way
            assert not snap.is_partial, snap.partial
            c, net = snap.container("rcp-obs-c"), snap.network("rcp-obs-net")
            assert c is not None and net is not None
            assert (c.image, c.state, c.namespace) == ("busybox", "running", "container:rcp-obs-c")
            (att,) = c.networks
            assert att.network == "rcp-obs-net" and att.gateway == net.gateway
            assert att.ip and len(att.mac) == 17
            assert net.driver == "bridge" and net.bridge == f"br-{net.id[:12]}"
            assert net.members == ("rcp-obs-c",)
            inside = snap.namespace(c.namespace)
            assert inside is not None
            eth0 = inside.link("eth0")
            assert eth0 is not None and eth0.mac == att.mac and eth0.peer is not None
            host = snap.namespace("host")
            assert host is not None
            assert host.bridge_ports()[net.bridge] == (eth0.peer.ifname,)
        assert _settled(take()) == _settled(take(docker_json=True))  # netlink here, ip there
    finally:
        sh("docker rm -f rcp-obs-c; docker network rm rcp-obs-net")


@pytest.mark.docker
def test_a_container_namespace_linked_into_run_netns_is_one_namespace(
    clean_machine: None, docker_engine: None
) -> None:
    """Tutorials link a container's namespace into /var/run/netns to use `ip netns exec` on
    it: it is still one namespace, the container's, both ways of reading."""
    busybox_image.ensure()
    try:
        sh("docker run -d --name rcp-obs-linked busybox sleep 300 >/dev/null")
        sh(
            "ln -s /proc/$(docker inspect -f '{{.State.Pid}}' rcp-obs-linked)/ns/net "
            "/var/run/netns/rcp-obs-linked"
        )
        for snap in (take(), take(docker_json=True)):
            ids = [ns.id for ns in snap.namespaces]
            assert "container:rcp-obs-linked" in ids and "netns:rcp-obs-linked" not in ids, ids
            linked = snap.namespace("container:rcp-obs-linked")
            assert linked is not None and linked.aliases == ("netns:rcp-obs-linked",)
            host = snap.namespace("host")
            assert host is not None
            peers = {link.peer.namespace for link in host.links if link.peer is not None}
            assert "container:rcp-obs-linked" in peers
    finally:
        sh("rm -f /var/run/netns/rcp-obs-linked; docker rm -f rcp-obs-linked")


def test_the_firewall_as_a_difference_from_the_baseline(clean_machine: None) -> None:
    rule = "-A FORWARD -s 10.99.7.0/24 -j ACCEPT"
    with LocalShell() as shell:
        baseline = observe.iptables_baseline(shell)
        try:
            sh(f"iptables -w {rule.replace('-A', '-I', 1)}")
            snap = observe.take(shell, baseline=baseline)
        finally:
            sh(f"iptables -w {rule.replace('-A', '-D', 1)}")
    assert snap.iptables is not None
    assert f"filter: {rule}" in snap.iptables.added
    assert not snap.iptables.removed


def test_without_ip_the_snapshot_is_partial_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "bash").symlink_to("/bin/bash")  # bash alone on PATH: no ip
    with LocalShell(env={"PATH": str(tmp_path)}) as shell:
        snap = observe.take(shell, docker_json=True, ip_only=True)
        # A host with python3 needs no ip: netlink.py reads it, whole but for Docker.
        scripted = observe.take(shell, docker_json=True)
    assert scripted.partial == ("docker is not installed",)
    assert scripted.namespace("host") is not None
    assert snap.is_partial
    assert "ip is not installed" in snap.partial
    assert "docker is not installed" in snap.partial
    assert snap.namespaces == ()


def _settled(snap: Snapshot) -> tuple[Namespace, ...]:
    """The namespaces without link-local inet6 addresses, which come when the kernel is done."""
    return tuple(
        replace(ns, addresses=tuple(a for a in ns.addresses if not a.address.startswith("fe80:")))
        for ns in snap.namespaces
    )


def test_netlink_here_python_there_and_ip_read_the_same(two_namespaces: None) -> None:
    """This machine's shell is read over netlink in-process; another host runs netlink.py as a
    script when it has python3 (forced here with docker_json), or `ip -j` without: all three
    must give the same namespaces, links, peers and routes."""
    with LocalShell() as shell:
        here = observe.take(shell, docker=False)
        script = observe.take(shell, docker_json=True, docker=False)
        ip_way = observe.take(shell, docker_json=True, docker=False, ip_only=True)
    assert len(here.namespaces) >= 3
    assert _settled(here) == _settled(script) == _settled(ip_way)


def test_recipe_state_json(two_namespaces: None) -> None:
    done = invoke("state", "--json")
    assert done.returncode == 0, done.stderr
    (snap,) = json.loads(done.stdout)
    assert snap["host"] == "local"
    ids = {ns["id"]: ns for ns in snap["namespaces"]}
    links = {link["ifname"]: link for link in ids[f"netns:{A}"]["links"]}
    assert links["rcp-obs-va"]["peer"] == {"namespace": f"netns:{B}", "ifname": "rcp-obs-vb"}
    table = invoke("state")
    assert f"peer netns:{B}/rcp-obs-vb" in table.stdout


@pytest.mark.docker
def test_a_virtual_node_over_ssh_the_remote_way(virtual_nodes: None) -> None:
    """Docker's JSON printed by the node's engine, through the one SSH shell."""
    from generator.hosts import nodes as hosts
    from generator.shell.ssh import SSHShell
    from generator.shell.ssh_target import resolve

    node = hosts.NODES[0].name
    with SSHShell(resolve(node)) as shell:
        try:
            started = shell.run("docker run -d --name rcp-obs-r busybox sleep 300", 60)
            assert started, started.stderr
            snap = observe.take(shell, host=node)
        finally:
            shell.run("docker rm -f rcp-obs-r", 60)
    assert not snap.is_partial, snap.partial
    c = snap.container("rcp-obs-r")
    assert c is not None and c.namespace == "container:rcp-obs-r"
    (att,) = c.networks
    inside, host = snap.namespace(c.namespace), snap.namespace("host")
    assert inside is not None and host is not None
    eth0 = inside.link("eth0")
    assert eth0 is not None and eth0.mac == att.mac and eth0.peer is not None
    bridge = snap.network("bridge")
    assert bridge is not None and bridge.members == ("rcp-obs-r",)
    assert host.bridge_ports()["docker0"] == (eth0.peer.ifname,)


def test_recipe_state_refuses_a_bad_host_in_one_line() -> None:
    assert_one_line_error(invoke("state", "--host", "no such host"), "no such host")
