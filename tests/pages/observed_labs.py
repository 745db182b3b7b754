"""Hand-made snapshots that mimic what the labs leave standing at the end of their main phase,
as generator/lab/observe.py would record them (docs/state.md)."""

from __future__ import annotations

from typing import Any

from generator.transcript.records import SnapshotRecord
from generator.transcript.state import (
    Address,
    Attachment,
    Container,
    DockerNetwork,
    Link,
    Namespace,
    Peer,
    Snapshot,
    Vxlan,
)
from generator.transcript.state_names import keys

_index = iter(range(2, 10_000))


def link(ifname: str, kind: str = "veth", **extra: Any) -> Link:
    return Link(ifname, next(_index), kind, "UP", "02:42:ac:11:00:02", 1500, **extra)


def veth(ifname: str, peer_ns: str, peer_if: str, master: str = "") -> Link:
    return link(ifname, "veth", master=master, peer=Peer(peer_ns, peer_if))


def inet(ifname: str, cidr: str) -> Address:
    address, _, prefix = cidr.partition("/")
    return Address(ifname, "inet", address, int(prefix))


def host_ns(*links: Link, addresses: tuple[Address, ...] = ()) -> Namespace:
    base = (link("lo", "loopback"), link("eth0", "device"), link("eth1", "device"))
    return Namespace("host", "host", "", (*base, *links), addresses)


def machine_before(host: str, *extra: Link, networks: tuple[DockerNetwork, ...] = ()) -> Snapshot:
    """What a fresh host holds before any lab: its keys are the snapshot's `preexisting`."""
    return Snapshot(host, (host_ns(*extra),), networks=networks)


def record(snapshot: Snapshot, role: str | None, index: int = 1) -> SnapshotRecord:
    return SnapshotRecord(index, 20, snapshot, role, "end of main")


DOCKER0 = DockerNetwork("bridge", "b" * 64, "bridge", "172.17.0.0/16", "172.17.0.1", "docker0")
DEFAULTS = (
    DOCKER0,
    DockerNetwork("host", "h" * 64, "host", "", "", ""),
    DockerNetwork("none", "0" * 64, "null", "", "", ""),
)
OVERLAY_ID = "4f1c2d3e5a" + "6" * 15  # 25 characters, as Swarm's ids are
INGRESS_ID = "9e8d7c6b5a" + "4" * 15


def swarm_node(host: str, container: str, ip: str, gw_veth: str) -> Snapshot:
    """A Swarm node with one container on the overlay network my-overlay, as swarm-overlay
    leaves it: the container's eth0 goes into the overlay's sandbox, its eth1 to
    docker_gwbridge; Swarm's ingress sandbox hangs on docker_gwbridge too."""
    sandbox = f"mounted:/run/docker/netns/1-{OVERLAY_ID[:10]}"
    ingress = "mounted:/run/docker/netns/ingress_sbox"
    cns = f"container:{container}"
    host_side = host_ns(
        link("docker0", "bridge"),
        link("docker_gwbridge", "bridge"),
        veth(gw_veth, cns, "eth1", master="docker_gwbridge"),
        veth("veth77aa001", ingress, "eth1", master="docker_gwbridge"),
        addresses=(inet("eth1", "192.168.205.10/24"), inet("docker_gwbridge", "172.18.0.1/16")),
    )
    inside = Namespace(
        cns,
        "container",
        container,
        (link("lo", "loopback"), veth("eth0", sandbox, "veth0"), veth("eth1", "host", gw_veth)),
        (inet("eth0", ip), inet("eth1", "172.18.0.3/16")),
    )
    overlay_sandbox = Namespace(
        sandbox,
        "mounted",
        sandbox.removeprefix("mounted:"),
        (
            link("br0", "bridge"),
            link("vxlan0", "vxlan", master="br0", vxlan=Vxlan(4097, "", "", "", 4789)),
            veth("veth0", cns, "eth0", master="br0"),
        ),
        (inet("br0", "10.0.1.1/24"),),
    )
    ingress_sbox = Namespace(
        ingress, "mounted", ingress, (veth("eth1", "host", "veth77aa001"),), ()
    )
    networks = (
        *DEFAULTS,
        DockerNetwork(
            "docker_gwbridge", "g" * 64, "bridge", "172.18.0.0/16", "", "docker_gwbridge"
        ),
        DockerNetwork("ingress", INGRESS_ID, "overlay", "10.0.0.0/24", "", "", scope="swarm"),
        DockerNetwork(
            "my-overlay",
            OVERLAY_ID,
            "overlay",
            "10.0.1.0/24",
            "10.0.1.1",
            "",
            (container,),
            "swarm",
        ),
    )
    address, _, prefix = ip.partition("/")
    containers = [
        Container(
            container,
            "c" * 64,
            "busybox",
            "running",
            cns,
            (Attachment("my-overlay", address, int(prefix), "02:42:0a:00:01:03", ""),),
        )
    ]
    if host == "docker-node1":  # the join token's hand-over container, exited by now
        containers.append(Container("swarm-token", "d" * 64, "busybox", "exited", ""))
    before = machine_before(host, link("docker0", "bridge"), networks=DEFAULTS)
    return Snapshot(
        host,
        (host_side, inside, overlay_sandbox, ingress_sbox),
        tuple(containers),
        networks,
        preexisting=tuple(sorted(keys(before))),
    )


def swarm_overlay() -> list[SnapshotRecord]:
    return [
        record(swarm_node("docker-node1", "test1", "10.0.1.3/24", "veth1a2b3c4"), "docker-node1"),
        record(
            swarm_node("docker-node2", "test2", "10.0.1.4/24", "veth5d6e7f8"), "docker-node2", 2
        ),
    ]


def vxlan_node(host: str, local: str, remote: str, addr: str) -> Snapshot:
    ns = Namespace(
        "netns:vx-ns",
        "netns",
        "vx-ns",
        (link("lo", "loopback"), link("vx0", "vxlan", vxlan=Vxlan(42, remote, local, "", 4789))),
        (inet("vx0", addr),),
        path="/run/netns/vx-ns",
    )
    before = machine_before(host)
    return Snapshot(
        host,
        (host_ns(addresses=(inet("eth1", local + "/24"),)), ns),
        preexisting=tuple(sorted(keys(before))),
    )


def vxlan() -> list[SnapshotRecord]:
    one, two = "192.168.205.10", "192.168.205.11"
    return [
        record(vxlan_node("docker-node1", one, two, "10.42.0.1/24"), "docker-node1"),
        record(vxlan_node("docker-node2", two, one, "10.42.0.2/24"), "docker-node2", 2),
    ]


def veth_pair(if1: str = "veth-test1", if2: str = "veth-test2") -> list[SnapshotRecord]:
    """One host: two namespaces joined by a veth pair, addressed."""
    ns1 = Namespace(
        "netns:test1",
        "netns",
        "test1",
        (veth(if1, "netns:test2", if2),),
        (inet(if1, "192.168.88.1/24"),),
    )
    ns2 = Namespace(
        "netns:test2",
        "netns",
        "test2",
        (veth(if2, "netns:test1", if1),),
        (inet(if2, "192.168.88.2/24"),),
    )
    before = machine_before("lab")
    snap = Snapshot("lab", (host_ns(), ns1, ns2), preexisting=tuple(sorted(keys(before))))
    return [record(snap, None)]


def docker_bridge() -> list[SnapshotRecord]:
    """One host: two containers on Docker's default bridge, docker0, which was there before."""
    names = {"test1": ("vethaa11bb2", "172.17.0.2"), "test2": ("vethcc33dd4", "172.17.0.3")}
    host_links = [link("docker0", "bridge")]
    spaces, containers = [], []
    for name, (port, ip) in names.items():
        host_links.append(veth(port, f"container:{name}", "eth0", master="docker0"))
        spaces.append(
            Namespace(
                f"container:{name}",
                "container",
                name,
                (link("lo", "loopback"), veth("eth0", "host", port)),
                (inet("eth0", f"{ip}/16"),),
            )
        )
        attachment = Attachment("bridge", ip, 16, "02:42:ac:11:00:02", "172.17.0.1")
        containers.append(
            Container(name, name * 16, "busybox", "running", f"container:{name}", (attachment,))
        )
    before = machine_before("lab", link("docker0", "bridge"), networks=DEFAULTS)
    snap = Snapshot(
        "lab",
        (host_ns(*host_links, addresses=(inet("docker0", "172.17.0.1/16"),)), *spaces),
        tuple(containers),
        DEFAULTS,
        preexisting=tuple(sorted(keys(before))),
    )
    return [record(snap, None)]


def linux_bridge() -> list[SnapshotRecord]:
    """One host: a bridge br0 the lab made, a namespace on each of two of its ports."""
    ports, spaces = [], []
    for i, name in enumerate(("test1", "test2"), start=2):
        ports.append(veth(f"veth-{name}", f"netns:{name}", "eth0", master="br0"))
        spaces.append(
            Namespace(
                f"netns:{name}",
                "netns",
                name,
                (link("lo", "loopback"), veth("eth0", "host", f"veth-{name}")),
                (inet("eth0", f"172.30.0.{i}/24"),),
            )
        )
    host = host_ns(link("br0", "bridge"), *ports, addresses=(inet("br0", "172.30.0.1/24"),))
    before = machine_before("lab")
    snap = Snapshot("lab", (host, *spaces), preexisting=tuple(sorted(keys(before))))
    return [record(snap, None)]


def bridge_nat() -> list[SnapshotRecord]:
    """One host: a container on docker0, and a veth from the host's namespace to `outside`."""
    (docker,) = docker_bridge()
    host, test1, _ = docker.state.namespaces
    outside = Namespace(
        "netns:outside",
        "netns",
        "outside",
        (veth("eth0", "host", "veth-uplink"),),
        (inet("eth0", "203.0.113.10/24"),),
    )
    uplink = veth("veth-uplink", "netns:outside", "eth0")
    host = Namespace(
        "host",
        "host",
        "",
        (*host.links[:-1], uplink),  # test2's port gone: one container here
        (*host.addresses, inet("veth-uplink", "203.0.113.1/24")),
    )
    state = Snapshot(
        "lab",
        (host, test1, outside),
        docker.state.containers[:1],
        docker.state.networks,
        preexisting=docker.state.preexisting,
    )
    return [record(state, None)]
