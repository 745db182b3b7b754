"""The topology a run observed: nodes and links drawn from the state snapshots (docs/state.md).

What the lab made is drawn, not what was there before it (`Snapshot.preexisting`): namespaces,
running containers, bridges, Docker networks, veth pairs, bridge ports, VXLAN tunnels and the
addresses on them. A preexisting bridge or Docker network (docker0) appears only when something
the lab made is attached to it. Docker's own namespaces (an overlay network's sandbox, the
swarm's ingress_sbox) are not drawn: a link into an overlay sandbox is a link to its network.

With more than one host, each node belongs to its host (the role, or the snapshot's host name),
except a swarm-scoped network such as an overlay, which spans the hosts and is one node that
the containers of every host attach to. The pages draw this (generator/pages/observed.py), and
generator/compare/declared.py checks a recipe's declared topology against it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from generator.transcript.records import SnapshotRecord
from generator.transcript.state import HOST, DockerNetwork, Link, Namespace, Snapshot
from generator.transcript.state_names import VOLATILE_VETH, network_ids

END_OF_MAIN = "end of main"
# Docker makes these itself: drawn only when something the lab made is attached to one.
DOCKER_OWN_NETWORKS = frozenset({"bridge", "host", "none", "ingress", "docker_gwbridge"})
# An overlay network's sandbox namespace, `1-<network id, 10 hex>` (state_names names it too).
_OVERLAY_SANDBOX = re.compile(r"\d+-([0-9a-f]{9,10})")
_KIND_ORDER = ("container", "netns", "host", "bridge", "docker-network", "segment")


@dataclass(frozen=True)
class ObservedNode:
    ident: str  # unique in the graph; never shown
    name: str
    kind: str  # container, netns, host, bridge, docker-network or segment
    host: str | None  # the machine it lives on; None on a one-host lab or for a shared network
    lines: tuple[str, ...] = ()  # the addresses on it, a network's driver and subnet
    aliases: frozenset[str] = frozenset()  # other names it answers to: a network's Linux bridge


@dataclass(frozen=True)
class ObservedEdge:
    a: str  # node ident
    a_if: str  # the interface at a ("" when none: a network's side of an attachment)
    b: str
    b_if: str
    kind: str  # veth, vxlan or attached
    label: str


@dataclass(frozen=True)
class ObservedGraph:
    nodes: tuple[ObservedNode, ...]
    edges: tuple[ObservedEdge, ...]
    # (host, namespace name, ifname, address/prefix): every address seen, made by the lab or not.
    addresses: frozenset[tuple[str | None, str, str, str]] = frozenset()
    partial: tuple[str, ...] = ()  # "HOST: why", for each snapshot that is partial
    hosts: tuple[str, ...] = ()  # the hosts, when there are several

    def node(self, ident: str) -> ObservedNode:
        return next(n for n in self.nodes if n.ident == ident)


def final_snapshots(records: Iterable[SnapshotRecord]) -> list[tuple[str, Snapshot]]:
    """(host, snapshot) per host, in the order first seen: the host's last `end of main`
    snapshot, or its last one when none has that label."""
    chosen: dict[str, SnapshotRecord] = {}
    for record in records:
        where = record.role or record.state.host or "localhost"
        held = chosen.get(where)
        if held is None or record.label == END_OF_MAIN or held.label != END_OF_MAIN:
            chosen[where] = record
    return [(where, record.state) for where, record in chosen.items()]


def volatile(ifname: str) -> bool:
    return bool(VOLATILE_VETH.fullmatch(ifname))


@dataclass
class _Builder:
    nodes: dict[str, ObservedNode] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)  # drawn even when no edge reaches them
    lines: dict[str, list[str]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str, str], ObservedEdge] = field(default_factory=dict)
    addresses: set[tuple[str | None, str, str, str]] = field(default_factory=set)
    vxlans: list[tuple[str, str, Link]] = field(default_factory=list)  # (node, host, link)

    def node(self, node: ObservedNode, shown: bool) -> str:
        self.nodes.setdefault(node.ident, node)
        self.lines.setdefault(node.ident, [])
        if shown:
            self.shown.add(node.ident)
        return node.ident

    def edge(self, edge: ObservedEdge) -> None:
        key = (edge.a, edge.a_if, edge.b, edge.b_if)
        if (edge.b, edge.b_if, edge.a, edge.a_if) not in self.edges:
            self.edges.setdefault(key, edge)

    def linked(self, a: str, b: str) -> bool:
        return any({e.a, e.b} == {a, b} for e in self.edges.values())

    def result(self, partial: tuple[str, ...], hosts: tuple[str, ...]) -> ObservedGraph:
        used = {e.a for e in self.edges.values()} | {e.b for e in self.edges.values()}
        keep = [n for i, n in self.nodes.items() if i in self.shown or i in used or self.lines[i]]
        order = {h: i for i, h in enumerate(hosts)}

        def rank(n: ObservedNode) -> tuple[int, int, str]:
            kind = _KIND_ORDER.index(n.kind) if n.kind in _KIND_ORDER else len(_KIND_ORDER)
            return (order.get(n.host or "", len(order)), kind, n.name)

        nodes = tuple(
            ObservedNode(
                n.ident, n.name, n.kind, n.host, (*n.lines, *self.lines[n.ident]), n.aliases
            )
            for n in sorted(keep, key=rank)
        )
        edges = tuple(sorted(self.edges.values(), key=lambda e: (e.a, e.b, e.label)))
        return ObservedGraph(nodes, edges, frozenset(self.addresses), partial, hosts)


def observe(records: Sequence[SnapshotRecord]) -> ObservedGraph | None:
    """The graph of what the lab made, from each host's final snapshot; None without any."""
    chosen = final_snapshots(records)
    if not chosen:
        return None
    multi = len(chosen) > 1
    builder = _Builder()
    partial: list[str] = []
    for where, snapshot in chosen:
        _Host(builder, snapshot, where if multi else None).add()
        partial += [f"{where}: {why}" for why in snapshot.partial]
    _vxlan_edges(builder)
    return builder.result(tuple(partial), tuple(w for w, _ in chosen) if multi else ())


class _Host:
    """One host's snapshot, added to the graph."""

    def __init__(self, builder: _Builder, snapshot: Snapshot, host: str | None) -> None:
        self.b, self.snap, self.host = builder, snapshot, host
        self.before = set(snapshot.preexisting)
        self.net_ids = network_ids(snapshot)
        # The Linux bridge of each Docker network in the host namespace -> the network.
        self.net_bridges = {n.bridge: n for n in snapshot.networks if n.bridge}

    def made(self, key: str) -> bool:
        if self.before:
            return key not in self.before
        # No snapshot before the lab: the host's own devices and Docker's defaults are not its.
        kind, _, rest = key.partition(" ")
        if kind == "network":
            return rest not in DOCKER_OWN_NETWORKS
        if kind == "link" and rest.startswith(f"{HOST} "):
            link = self._host_link(rest.removeprefix(f"{HOST} "))
            return (
                link is not None
                and link.kind not in ("device", "loopback")
                and (link.ifname not in self.net_bridges)
            )
        return key != f"namespace {HOST}"

    def _host_link(self, ifname: str) -> Link | None:
        ns = self.snap.namespace(HOST)
        return ns.link(ifname) if ns else None

    def ident(self, kind: str, name: str) -> str:
        return f"{self.host or ''}|{kind}|{name}"

    def add(self) -> None:
        for network in sorted(self.snap.networks, key=lambda n: n.name):
            self.network_node(
                network,
                shown=self.made(f"network {network.name}")
                and (network.name not in DOCKER_OWN_NETWORKS),
            )
        for ns in sorted(self.snap.namespaces, key=lambda n: n.id):
            self.namespace(ns)
        self.veths()
        self.attachments()

    def network_node(self, network: DockerNetwork, shown: bool) -> str:
        spans = network.scope == "swarm" or network.driver == "overlay"
        ident = f"|docker-network|{network.name}" if spans else self.ident("net", network.name)
        line = " ".join(x for x in (network.driver, network.subnet) if x)
        bridge = f"Linux bridge {network.bridge}" if network.bridge else ""
        lines = tuple(x for x in (line, bridge) if x)
        aliases = frozenset({network.bridge} - {""})
        node = ObservedNode(
            ident, network.name, "docker-network", None if spans else self.host, lines, aliases
        )
        return self.b.node(node, shown)

    def sandbox_network(self, ns: Namespace) -> DockerNetwork | None:
        found = (
            _OVERLAY_SANDBOX.fullmatch(ns.name.rsplit("/", 1)[-1]) if ns.kind == "mounted" else None
        )
        if found is None:
            return None
        owner = next((n for i, n in self.net_ids.items() if i.startswith(found[1])), None)
        return self.snap.network(owner) if owner else None

    def namespace_node(self, ns: Namespace) -> str | None:
        """The node a namespace is drawn as: None for Docker's own (mounted) namespaces."""
        if ns.kind == "mounted":
            network = self.sandbox_network(ns)
            return self.network_node(network, shown=False) if network else None
        made = self.made(f"namespace {ns.id}")
        if ns.kind == "container":
            name = ns.id.partition(":")[2]
            container = self.snap.container(name)
            made = made and (container is None or self.made(f"container {name}"))
            return self.b.node(
                ObservedNode(self.ident("container", name), name, "container", self.host), made
            )
        if ns.kind == "netns":
            return self.b.node(
                ObservedNode(self.ident("netns", ns.name), ns.name, "netns", self.host), made
            )
        return self.b.node(ObservedNode(self.ident("host", HOST), HOST, "host", self.host), False)

    def endpoint(self, ns: Namespace, link: Link) -> str | None:
        """The node an interface is drawn on: its bridge (or the Docker network whose bridge
        that is) when it is a port, else its namespace's node."""
        if link.master and ns.kind != "mounted":
            network = self.net_bridges.get(link.master) if ns.id == HOST else None
            if network is not None:
                return self.network_node(network, shown=False)
            bridge = ns.link(link.master)
            if bridge is not None and bridge.kind == "bridge":
                return self.bridge_node(ns, bridge)
        if link.kind == "bridge" and ns.kind != "mounted":
            network = self.net_bridges.get(link.ifname) if ns.id == HOST else None
            if network is not None:
                return self.network_node(network, shown=False)
            return self.bridge_node(ns, link)
        return self.namespace_node(ns)

    def bridge_node(self, ns: Namespace, bridge: Link) -> str:
        where = "" if ns.id == HOST else f"{ns.name}/"
        name = f"{where}{bridge.ifname}"
        made = self.made(f"link {ns.id} {bridge.ifname}")
        return self.b.node(
            ObservedNode(self.ident("bridge", name), name, "bridge", self.host), made
        )

    def namespace(self, ns: Namespace) -> None:
        node = self.namespace_node(ns)
        for addr in ns.addresses:
            self.b.addresses.add((self.host, _ns_name(ns), addr.ifname, addr.cidr))
        if node is None or ns.kind == "mounted":
            return
        made_ns = self.made(f"namespace {ns.id}")
        for addr in ns.addresses:
            link = ns.link(addr.ifname)
            if link is None or link.kind == "loopback" or addr.address.startswith("fe80:"):
                continue
            if not (made_ns or self.made(f"link {ns.id} {link.ifname}")):
                continue
            target = self.endpoint(ns, link) if link.kind == "bridge" else node
            if target and not target.startswith(("|docker-network|", f"{self.host or ''}|net|")):
                self.b.lines[target].append(f"{addr.ifname} {addr.cidr}")
        for link in ns.links:
            if link.kind == "vxlan" and link.vxlan and self.made(f"link {ns.id} {link.ifname}"):
                end = self.endpoint(ns, link)
                if end:
                    self.b.vxlans.append((end, self.host or "", link))

    def veths(self) -> None:
        done: set[frozenset[tuple[str, str]]] = set()
        # By namespace and name, so which end comes first never follows the kernel's order.
        for ns in sorted(self.snap.namespaces, key=lambda n: n.id):
            for link in sorted(ns.links, key=lambda x: x.ifname):
                if link.kind != "veth" or link.peer is None:
                    continue
                pair = frozenset({(ns.id, link.ifname), (link.peer.namespace, link.peer.ifname)})
                other_ns = self.snap.namespace(link.peer.namespace)
                other = other_ns.link(link.peer.ifname) if other_ns else None
                if pair in done or other_ns is None or other is None:
                    continue
                done.add(pair)
                if self.made(f"link {ns.id} {link.ifname}") or self.made(
                    f"link {other_ns.id} {other.ifname}"
                ):
                    self.veth(ns, link, other_ns, other)

    def veth(self, ns: Namespace, link: Link, other_ns: Namespace, other: Link) -> None:
        a, b = self.endpoint(ns, link), self.endpoint(other_ns, other)
        if a is None or b is None or a == b:
            return
        kinds = (self.b.nodes[a].kind, self.b.nodes[b].kind)
        if kinds[0] == "docker-network":  # the container side first
            a, b, ns, link, other_ns, other = b, a, other_ns, other, ns, link
            kinds = (kinds[1], kinds[0])
        if kinds[1] == "docker-network":
            label = _with_addresses(link.ifname, ns)
        else:
            label = " veth ".join(x for x in (link.ifname, other.ifname) if not volatile(x))
        self.b.edge(ObservedEdge(a, link.ifname, b, other.ifname, "veth", label or "veth"))

    def attachments(self) -> None:
        """A container on a network its veths did not show (no namespace seen: a partial
        snapshot, or a driver without a Linux bridge)."""
        for container in self.snap.containers:
            ns = self.snap.namespace(container.namespace) if container.namespace else None
            if container.state != "running":
                continue
            if ns is None:
                name = container.name
                made = self.made(f"container {name}")
                node = self.b.node(
                    ObservedNode(self.ident("container", name), name, "container", self.host), made
                )
            else:
                found = self.namespace_node(ns)
                if found is None:
                    continue
                node = found
            for attachment in container.networks:
                network = self.snap.network(attachment.network)
                if network is None:
                    continue
                net = self.network_node(network, shown=False)
                if not self.b.linked(node, net):
                    label = f"{attachment.ip}/{attachment.prefixlen}" if attachment.ip else ""
                    ifname = _ifname_of(ns, attachment.ip) if ns else ""
                    text = f"{ifname} {label}".strip() or "attached"
                    self.b.edge(ObservedEdge(node, ifname, net, "", "attached", text))


def _ns_name(ns: Namespace) -> str:
    return ns.name if ns.kind in ("netns", "container") else ns.id


def _ifname_of(ns: Namespace, ip: str) -> str:
    return next((a.ifname for a in ns.addresses if a.address == ip), "")


def _with_addresses(ifname: str, ns: Namespace) -> str:
    found = [a.cidr for a in ns.addresses if a.ifname == ifname and a.family == "inet"]
    return " ".join([ifname, *found])


def _vxlan_edges(builder: _Builder) -> None:
    """Two VXLAN devices of one VNI and port that send to each other: one edge. Any other
    group (one end, a multicast group, three hosts): a segment node that each end joins."""
    groups: dict[tuple[int, int], list[tuple[str, str, Link]]] = {}
    for end in builder.vxlans:
        info = end[2].vxlan
        if info is not None:
            groups.setdefault((info.vni, info.port), []).append(end)
    for (vni, port), ends in sorted(groups.items()):
        if len(ends) == 2 and _facing(ends[0][2], ends[1][2]):
            (a, _, la), (b, _, lb) = ends
            label = f"{la.ifname} vxlan {vni} {lb.ifname}"
            builder.edge(ObservedEdge(a, la.ifname, b, lb.ifname, "vxlan", label))
            continue
        seg = builder.node(
            ObservedNode(f"|segment|vxlan {vni}/{port}", f"vxlan {vni}", "segment", None), True
        )
        for node, _, link in ends:
            remote = link.vxlan.remote if link.vxlan else ""
            label = f"{link.ifname} remote {remote}" if remote else link.ifname
            builder.edge(ObservedEdge(node, link.ifname, seg, "", "vxlan", label))


def _facing(a: Link, b: Link) -> bool:
    va, vb = a.vxlan, b.vxlan
    if va is None or vb is None or not va.remote or not vb.remote:
        return False
    return (not vb.local or va.remote == vb.local) and (not va.local or vb.remote == va.local)


def addresses_of(graph: ObservedGraph) -> Mapping[tuple[str | None, str], set[tuple[str, str]]]:
    """(host, namespace name) -> {(ifname, address/prefix)}."""
    found: dict[tuple[str | None, str], set[tuple[str, str]]] = {}
    for host, ns, ifname, cidr in graph.addresses:
        found.setdefault((host, ns), set()).add((ifname, cidr))
    return found
