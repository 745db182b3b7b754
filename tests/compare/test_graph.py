"""The observed graph under canonical names, and drift between two runs of a lab.

Hand-built snapshots first: one lab, built by `lab()` as two runs would see it, with other
ifindexes, MACs, random veth names, container and network ids and netnsids, and with one
thing rewired at a time. Then one real lab of namespaces and bridges, rewired between two
snapshots, observed through generator.lab.observe.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import replace

import pytest

from generator.compare import graph
from generator.transcript import state_names
from generator.transcript.state import (
    Address,
    Attachment,
    Container,
    DockerNetwork,
    Link,
    Namespace,
    Peer,
    Route,
    Snapshot,
    Vxlan,
)


def _veth(name: str, index: int, seed: int, peer: Peer, master: str = "") -> Link:
    mac = f"02:00:00:00:{seed:02x}:{index:02x}"
    return Link(name, index + seed, "veth", "UP", mac, 1500, master, peer, None, index, seed)


def lab(
    seed: int = 1,
    network: str = "my-bridge",
    test1_peer: Peer | None = None,
    port_on: str = "br0",
    address: str = "10.0.0.1",
    mtu: int = 1500,
    link_local: bool = False,
    state: str = "running",
) -> Snapshot:
    """A host with docker0 and eth0 from before the lab; the lab made namespace test1, bridge
    br0 with port veth1 (test1:eth0's peer), a vxlan, network my-bridge and container test2.
    `seed` moves every volatile value: ifindexes, MACs, random veth names, Docker ids."""
    rnd = f"veth{seed:07x}"  # test2's host-side veth, named at random by Docker
    net_id = f"{seed:012x}" + "f" * 52
    bridge = f"br-{net_id[:12]}" if network == "my-bridge" else "docker0"
    test1_peer = test1_peer or Peer("host", "veth1")
    host = Namespace(
        "host",
        "host",
        "host",
        links=(
            Link("lo", 1, "loopback", "UNKNOWN", "00:00:00:00:00:00", 65536),
            Link("eth0", 2, "device", "UP", f"52:54:00:00:00:{seed:02x}", mtu),
            Link("docker0", 3, "bridge", "UP", f"02:42:00:00:00:{seed:02x}", 1500),
            Link(
                f"br-{net_id[:12]}", 10 + seed, "bridge", "UP", f"02:42:01:00:00:{seed:02x}", 1500
            ),
            Link("br0", 20 + seed, "bridge", "UP", f"02:11:00:00:00:{seed:02x}", 1500),
            _veth("veth1", 30, seed, Peer("netns:test1", "eth0"), port_on),
            _veth(rnd, 40, seed, Peer("container:test2", "eth0"), bridge),
            Link(
                "vx0",
                50 + seed,
                "vxlan",
                "UNKNOWN",
                f"02:22:00:00:00:{seed:02x}",
                1450,
                vxlan=Vxlan(42, "10.9.0.2", "", "eth0", 4789),
            ),
        ),
        addresses=(
            Address("eth0", "inet", f"192.168.1.{seed}", 24),  # a lease: differs per machine
            Address("docker0", "inet", "172.17.0.1", 16),
            Address(f"br-{net_id[:12]}", "inet", "172.18.0.1", 16),
            Address("br0", "inet", "10.0.0.254", 24),
            *([Address("br0", "inet6", f"fe80::{seed}", 64)] if link_local else []),
        ),
        routes=(Route("default", "eth0", f"192.168.1.{seed + 1}", "dhcp"),),
    )
    test1_links = [Link("lo", 1, "loopback", "UNKNOWN", "00:00:00:00:00:00", 65536)]
    if test1_peer is not None:
        test1_links.append(_veth("eth0", 2, seed, test1_peer))
    test1 = Namespace(
        "netns:test1",
        "netns",
        "test1",
        links=tuple(test1_links),
        addresses=(
            Address("eth0", "inet", address, 24),
            *([Address("eth0", "inet6", f"fe80::{seed}:1", 64)] if link_local else []),
        ),
        routes=(
            Route("10.0.0.0/24", "eth0", "", "kernel", "link"),
            Route("default", "eth0", "10.0.0.254", "boot" if seed % 2 else "static"),
        ),
        path="/run/netns/test1",
    )
    test2 = Namespace(
        "container:test2",
        "container",
        "test2",
        links=(_veth("eth0", 2, seed, Peer("host", rnd)),),
        addresses=(
            Address("eth0", "inet", "172.18.0.2" if network == "my-bridge" else "172.17.0.2", 16),
        ),
        path=f"/run/docker/netns/{seed:012x}",
    )
    ip = "172.18.0.2" if network == "my-bridge" else "172.17.0.2"
    gateway = "172.18.0.1" if network == "my-bridge" else "172.17.0.1"
    container = Container(
        "test2",
        f"{seed:064x}",
        "busybox",
        state,
        "container:test2",
        (Attachment(network, ip, 16, f"02:42:ac:00:00:{seed:02x}", gateway),),
    )
    networks = (
        DockerNetwork(
            "bridge",
            "b" * 64,
            "bridge",
            "172.17.0.0/16",
            "172.17.0.1",
            "docker0",
            ("test2",) if network == "bridge" else (),
        ),
        DockerNetwork(
            "my-bridge",
            net_id,
            "bridge",
            "172.18.0.0/16",
            "172.18.0.1",
            f"br-{net_id[:12]}",
            ("test2",) if network == "my-bridge" else (),
        ),
    )
    snap = Snapshot("local", (host, test1, test2), (container,), networks)
    before = Snapshot(
        "local",
        (replace(host, links=host.links[:3]),),
        networks=networks[:1],
    )
    return replace(snap, preexisting=state_names.preexisting(before, snap))


def drift(was: Snapshot, now: Snapshot) -> list[str]:
    return graph.drift([("local", was)], [("local", now)])


def test_the_same_lab_twice_with_other_volatile_values_has_no_drift() -> None:
    assert drift(lab(seed=1), lab(seed=2)) == []
    assert graph.graph(lab(seed=1)).facts == graph.graph(lab(seed=7)).facts


def test_the_graph_holds_what_the_lab_made_under_canonical_names() -> None:
    phrases = graph.graph(lab()).phrases()
    assert "test1 (namespace)" in phrases
    assert "test2 (container)" in phrases
    assert "the veth host:veth1 <-> test1:eth0" in phrases
    assert "the veth host:veth(test2:eth0) <-> test2:eth0" in phrases
    assert "port veth(test2:eth0) on br(my-bridge)" in phrases
    assert "port veth1 on br0" in phrases
    assert "vxlan host:vx0 (vni 42, remote 10.9.0.2, device eth0, port 4789)" in phrases
    assert "address 10.0.0.1/24 on test1:eth0" in phrases
    assert "address my-bridge+2 of test2 on my-bridge" in phrases
    assert "test2 on my-bridge" in phrases
    assert "test2 running" in phrases
    assert "route default via 10.0.0.254 dev eth0 in test1" in phrases
    text = "\n".join(phrases)
    # Nothing from before the lab, and nothing volatile.
    assert "192.168.1." not in text and "docker0 (" not in text and "eth0 (device)" not in text
    assert "vethf" not in text and "br-0" not in text and "02:" not in text


def test_a_container_on_another_network_names_the_edge() -> None:
    found = drift(lab(network="my-bridge"), lab(seed=2, network="bridge"))
    assert "test2 is on my-bridge in the recording, on bridge now" in found
    assert "port veth(test2:eth0) is on br(my-bridge) in the recording, on docker0 now" in found
    assert "test2:eth0 has my-bridge+2 in the recording, bridge+2 now" in found
    # Its address on the network it left is said by the attachment's line, not once more.
    assert not any("of test2 on" in line for line in found), found


def test_a_range_docker_chose_elsewhere_is_no_drift_but_another_place_in_it_is() -> None:
    """Docker picks a new network's range from what earlier labs left (172.18 on a fresh
    engine, 172.25 after some labs): the same lab in another range is the same lab."""
    was = lab()
    assert drift(was, _shift(lab(seed=2), "172.18.", "172.25.")) == []
    other_place = _shift(lab(seed=2), "172.18.0.2", "172.18.0.9")
    assert "test2:eth0 has my-bridge+2 in the recording, my-bridge+9 now" in drift(was, other_place)


def _shift(snapshot: Snapshot, old: str, new: str) -> Snapshot:
    from generator.transcript import state_json

    text = json.dumps(state_json.to_data(snapshot)).replace(old, new)
    return state_json.from_data(json.loads(text))


def test_a_veth_end_moved_to_another_namespace() -> None:
    was = lab()
    now = lab(seed=2, test1_peer=Peer("netns:test3", "eth0"))
    test3 = Namespace(
        "netns:test3",
        "netns",
        "test3",
        links=(_veth("eth0", 5, 2, Peer("netns:test1", "eth0")),),
    )
    host = replace(
        now.namespaces[0], links=tuple(x for x in now.namespaces[0].links if x.ifname != "veth1")
    )
    now = replace(now, namespaces=(host, *now.namespaces[1:], test3))
    found = drift(was, now)
    assert (
        "the veth from test1:eth0 ends at host:veth1 in the recording, at test3:eth0 now" in found
    )
    assert "test3 (namespace) is new" in found
    assert "port veth1 on br0 is missing" in found
    assert drift(was, now) == found


def test_an_address_changed() -> None:
    found = drift(lab(), lab(seed=3, address="10.0.0.9"))
    assert found == ["test1:eth0 has 10.0.0.1/24 in the recording, 10.0.0.9/24 now"]


def test_a_bridge_port_moved() -> None:
    found = drift(lab(), lab(seed=3, port_on="docker0"))
    assert found == ["port veth1 is on br0 in the recording, on docker0 now"]


def test_a_container_stopped() -> None:
    found = drift(lab(), lab(seed=3, state="exited"))
    assert found == ["test2 is running in the recording, exited now"]


def test_new_defaults_are_no_drift() -> None:
    """A different MTU on a preexisting link, link-local addresses, another route protocol."""
    assert drift(lab(), lab(seed=2, mtu=9000, link_local=True)) == []


def test_things_on_one_side_only_are_new_or_missing() -> None:
    was, now = lab(), lab(seed=2)
    networks = tuple(replace(n, members=()) for n in now.networks)
    gone = replace(now, containers=(), networks=networks, namespaces=now.namespaces[:2])
    found = drift(was, gone)
    assert "test2 (container) is missing" in found
    assert not any("test2 is" in line or "of test2" in line for line in found), found
    assert "test2 (container) is new" in drift(gone, was)


def test_a_side_that_could_not_read_docker_says_nothing_about_docker() -> None:
    was = lab()
    now = lab(seed=2, network="bridge")
    blind = replace(
        now,
        containers=(),
        networks=(),
        namespaces=(
            now.namespaces[0],
            now.namespaces[1],
            replace(now.namespaces[2], id="mounted:/run/docker/netns/abc", kind="mounted"),
        ),
        partial=("the Docker engine is not reachable: connection refused",),
    )
    assert drift(was, blind) == []
    assert drift(blind, was) == []
    # What is not Docker's is still compared.
    moved = replace(
        blind,
        namespaces=(
            blind.namespaces[0],
            replace(blind.namespaces[1], addresses=(Address("eth0", "inet", "10.0.0.7", 24),)),
            blind.namespaces[2],
        ),
    )
    assert drift(was, moved) == ["test1:eth0 has 10.0.0.1/24 in the recording, 10.0.0.7/24 now"]


def test_a_side_that_could_not_enter_namespaces_still_compares_the_host() -> None:
    was = lab()
    now = replace(
        lab(seed=2, address="10.0.0.9", port_on="docker0"),
        partial=("not root: namespaces other than this shell's could not be entered",),
    )
    assert drift(was, now) == ["port veth1 is on br0 in the recording, on docker0 now"]


def test_several_hosts_are_named_by_role() -> None:
    found = graph.drift(
        [("node1", lab()), ("node2", lab())],
        [("node1", lab(seed=2)), ("node2", lab(seed=2, address="10.0.0.9"))],
    )
    assert found == ["node2/test1:eth0 has 10.0.0.1/24 in the recording, 10.0.0.9/24 now"]
    missing = graph.drift([("node1", lab()), ("node2", lab())], [("node1", lab(seed=2))])
    assert missing == ["host node2 has a snapshot in the recording, none now"]


def test_a_hundred_namespaces_read_fast() -> None:
    spaces = []
    links = []
    for i in range(100):
        ns_id = f"netns:n{i}"
        spaces.append(
            Namespace(
                ns_id,
                "netns",
                f"n{i}",
                links=(
                    Link("lo", 1, "loopback", "UNKNOWN", "00:00:00:00:00:00", 65536),
                    _veth("eth0", 2, 1, Peer("host", f"v{i}")),
                ),
                addresses=(Address("eth0", "inet", f"10.1.{i}.2", 24),),
                routes=(Route("default", "eth0", f"10.1.{i}.1"),),
            )
        )
        links.append(_veth(f"v{i}", 10 + i, 1, Peer(ns_id, "eth0"), "br0"))
    host = Namespace(
        "host", "host", "host", links=(Link("br0", 5, "bridge", "UP", "", 1500), *links)
    )
    snap = Snapshot("local", (host, *spaces))
    graph.graph(snap)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        found = graph.graph(snap)
        times.append(time.perf_counter() - start)
    assert len(found.facts) > 1000
    assert sorted(times)[2] < 0.02, times  # about 5 ms here; slack for a loaded machine


# The real lab: namespaces A and B, a veth from A (port of a bridge) to B, and two bridges in A
# that each keep a port of their own (a veth pair inside A), so moving the veth from one bridge
# to the other changes no bridge's carrier, only the edge.
_TAG = f"gr{os.getpid() % 100000}"
A, B = f"{_TAG}a", f"{_TAG}b"


def _build(port_on: str) -> None:
    script = f"""
ip netns add {A}; ip netns add {B}
ip -n {A} link add {_TAG}v type veth peer name eth0 netns {B}
for n in 1 2; do
  ip -n {A} link add {_TAG}br$n type bridge
  ip -n {A} link add {_TAG}k$n type veth peer name {_TAG}p$n
  ip -n {A} link set {_TAG}k$n master {_TAG}br$n
  ip -n {A} link set {_TAG}br$n up; ip -n {A} link set {_TAG}k$n up; ip -n {A} link set {_TAG}p$n up
done
ip -n {A} link set {_TAG}v master {_TAG}{port_on}
ip -n {A} addr add 10.77.0.1/24 dev {_TAG}br1
ip -n {B} addr add 10.77.0.2/24 dev eth0
ip -n {A} link set {_TAG}v up; ip -n {B} link set eth0 up
ip -n {A} link set lo up; ip -n {B} link set lo up
"""
    done = subprocess.run(["bash", "-ec", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _teardown() -> None:
    for ns in (A, B):  # deleting a namespace deletes its links, and a veth with its peer
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def _take(before: Snapshot | None = None) -> Snapshot:
    """A snapshot once every link the lab set up reads up: the kernel reports carrier changes a
    moment after `ip link set up` (linkwatch), and a real run snapshots a settled lab."""
    from generator.lab import observe
    from generator.shell.local import LocalShell

    with LocalShell() as shell:
        for _ in range(50):
            snap = observe.take(shell)
            ours = [ns for ns in snap.namespaces if ns.id in (f"netns:{A}", f"netns:{B}")]
            if all(link.state in ("UP", "UNKNOWN") for ns in ours for link in ns.links):
                break
            time.sleep(0.1)
    return replace(snap, preexisting=state_names.preexisting(before, snap)) if before else snap


@pytest.mark.root
def test_a_real_lab_rebuilt_with_its_port_on_another_bridge(clean_machine: None) -> None:
    before = _take()
    try:
        _build("br1")
        first = _take(before)
        _teardown()
        _build("br1")
        again = _take(before)
        _teardown()
        _build("br2")
        moved = _take(before)
    finally:
        _teardown()
    phrases = graph.graph(first).phrases()
    assert f"the veth {A}:{_TAG}v <-> {B}:eth0" in phrases, phrases
    assert f"port {A}:{_TAG}v on {_TAG}br1" in phrases
    assert f"address 10.77.0.2/24 on {B}:eth0" in phrases
    assert not any(p.startswith("address fe80") for p in phrases)
    assert not any("(device)" in p or "docker0 (" in p for p in phrases), phrases  # the machine's
    assert graph.drift([("local", first)], [("local", again)]) == []
    found = graph.drift([("local", first)], [("local", moved)])
    assert found == [f"port {A}:{_TAG}v is on {_TAG}br1 in the recording, on {_TAG}br2 now"]
