"""The topology diagram drawn from observation: the graph of generator/compare/observed.py as
diagram.py's model, so Mermaid and DOT draw it with generated ids and escaped labels, as they
draw a declared topology.

On a lab of several hosts the drawing also shows how the hosts are joined (`across_hosts`). A
network that spans the hosts, a Swarm overlay, is not one thing floating between them: each
host realizes it (a sandbox with a bridge and a VXLAN device), so it is drawn once inside each
host's box. A VXLAN device, an overlay's or a lab's own, sends its frames in UDP from its
host's node-network interface to the other host's, so each VXLAN end is wired to its host,
drawn with that interface's address, and the hosts are wired to each other by the tunnel
(`VXLAN VNI UDP PORT`). A network local to a host (docker_gwbridge) is wired to its own host,
so two of one name on two hosts never read as one network.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from generator.compare.observed import (
    ObservedEdge,
    ObservedGraph,
    ObservedNode,
    final_snapshots,
    observe,
)
from generator.pages.diagram import Edge, Graph, Node
from generator.transcript.records import SnapshotRecord
from generator.transcript.state import HOST, Link, Namespace, Snapshot

CAPTION = "Drawn from the state observed at the end of the run."
_KIND_ORDER = ("container", "netns", "bridge", "docker-network", "segment", "host")


def to_graph(observed: ObservedGraph) -> Graph:
    """Nodes keyed n0, n1, ... in the observed order; the names only ever appear in labels."""
    keys = {node.ident: f"n{i}" for i, node in enumerate(observed.nodes)}
    nodes = tuple(Node(keys[n.ident], n.name, n.kind, n.lines, n.host) for n in observed.nodes)
    edges = tuple(
        Edge(keys[e.a], keys[e.b], e.label) for e in observed.edges if e.a in keys and e.b in keys
    )
    return Graph(nodes, edges)


def graph_from_snapshots(snapshots: Sequence[SnapshotRecord]) -> Graph | None:
    """The diagram of what a run observed; None when it recorded no snapshot (version 1)."""
    observed = observe(snapshots)
    if observed is None or not observed.nodes:
        return None
    if observed.hosts:
        observed = across_hosts(observed, final_snapshots(snapshots))
    return to_graph(observed)


def describe(graph: Graph) -> Iterator[str]:
    """The graph in words, one line per node and edge, for a page without Graphviz."""
    names = {}
    for node in graph.nodes:
        where = f"{node.host}/" if node.host else ""
        names[node.key] = f"{where}{node.name}"
        extra = f": {', '.join(node.lines)}" if node.lines else ""
        yield f"node     {names[node.key]} ({node.kind}){extra}"
    for edge in graph.edges:
        yield f"link     {names[edge.a]} <-> {names[edge.b]} ({edge.label})"


# ---- several hosts: each realizes the overlay, the hosts' NICs carry the VXLAN ------------------


@dataclass(frozen=True)
class _End:
    """One VXLAN device: the host it is on, the drawn node it belongs to, and the device;
    `network` is the Docker network whose sandbox holds it ("" for a lab's own)."""

    host: str
    node: str
    link: Link
    network: str = ""


def across_hosts(graph: ObservedGraph, snapshots: Sequence[tuple[str, Snapshot]]) -> ObservedGraph:
    """The observed graph of a multi-host lab redrawn as the hosts hold it (the module's doc):
    a spanning network per host, each VXLAN end wired to its host's node, the hosts wired by
    the tunnels. `snapshots` are the (host, snapshot) pairs the graph was built from."""
    return _Across(graph, dict(snapshots)).result()


class _Across:
    def __init__(self, graph: ObservedGraph, snaps: dict[str, Snapshot]) -> None:
        self.graph, self.snaps = graph, snaps
        self.nodes = {n.ident: n for n in graph.nodes}
        self.lines: dict[str, list[str]] = {}  # extra lines for a node, in order, no repeats
        self.edges: dict[tuple[str, str, str], ObservedEdge] = {}
        self.ends: list[_End] = []

    def result(self) -> ObservedGraph:
        for edge in self.graph.edges:
            self.rewire(edge)
        self.tunnels()
        self.local_networks()
        # What the observed graph drew stays, but for a spanning network drawn per host now.
        used = self.used()
        kept = {n.ident for n in self.graph.nodes if not _spans(n)}
        nodes = [
            dataclasses.replace(n, lines=tuple(dict.fromkeys((*n.lines, *self.lines.get(i, [])))))
            for i, n in self.nodes.items()
            if i in used or i in kept
        ]
        order = {h: i for i, h in enumerate(self.graph.hosts)}

        def rank(n: ObservedNode) -> tuple[int, int, str]:
            kind = _KIND_ORDER.index(n.kind) if n.kind in _KIND_ORDER else len(_KIND_ORDER)
            return (order.get(n.host or "", len(order)), kind, n.name)

        return dataclasses.replace(
            self.graph, nodes=tuple(sorted(nodes, key=rank)), edges=tuple(self.edges.values())
        )

    def used(self) -> set[str]:
        return {e.a for e in self.edges.values()} | {e.b for e in self.edges.values()}

    def edge(self, edge: ObservedEdge) -> None:
        if edge.a != edge.b:
            key = (min(edge.a, edge.b), max(edge.a, edge.b), edge.label)
            self.edges.setdefault(key, edge)

    def rewire(self, edge: ObservedEdge) -> None:
        """An edge to a spanning network goes to that host's part of it; a VXLAN edge between
        two hosts becomes the way its frames go: end, host, host, end."""
        a, b = self.nodes[edge.a], self.nodes[edge.b]
        if _spans(b) and a.host in self.snaps:
            part = self.realized(b, a.host)
            self.edge(dataclasses.replace(edge, b=part))
            self.ends += [
                _End(a.host, part, vx, b.name) for vx in self.sandbox_vxlans(a, edge.a_if)
            ]
            return
        if edge.kind == "vxlan" and a.host and b.host and a.host != b.host:
            found = [self.vxlan_at(a, edge.a_if), self.vxlan_at(b, edge.b_if)]
            if found[0] is not None and found[1] is not None:
                self.ends += [_End(a.host, a.ident, found[0]), _End(b.host, b.ident, found[1])]
                return
        self.edge(edge)

    def realized(self, network: ObservedNode, host: str) -> str:
        """The node of a spanning network's part on one host."""
        ident = f"{host}|docker-network|{network.name}"
        self.nodes.setdefault(ident, dataclasses.replace(network, ident=ident, host=host))
        return ident

    def namespace_of(self, node: ObservedNode) -> Namespace | None:
        snap = self.snaps.get(node.host or "")
        if snap is None:
            return None
        if node.kind in ("container", "netns"):
            return snap.namespace(f"{node.kind}:{node.name}")
        if node.kind == "bridge":  # `NS/BRIDGE` in a named namespace, `BRIDGE` in the host's
            where, sep, _ = node.name.rpartition("/")
            return snap.namespace(f"netns:{where}" if sep else HOST)
        return snap.namespace(HOST) if node.kind == "host" else None

    def vxlan_at(self, node: ObservedNode, ifname: str) -> Link | None:
        ns = self.namespace_of(node)
        link = ns.link(ifname) if ns else None
        return link if link is not None and link.vxlan is not None else None

    def sandbox_vxlans(self, node: ObservedNode, ifname: str) -> list[Link]:
        """The VXLAN devices on the bridge where `node`'s interface ends: an overlay's sandbox
        holds one beside the veths of its containers."""
        ns = self.namespace_of(node)
        link = ns.link(ifname) if ns else None
        snap = self.snaps.get(node.host or "")
        if link is None or link.peer is None or snap is None:
            return []
        sandbox = snap.namespace(link.peer.namespace)
        port = sandbox.link(link.peer.ifname) if sandbox else None
        if sandbox is None or port is None:
            return []
        return [
            x
            for x in sandbox.links
            if x.vxlan is not None and (not port.master or x.master == port.master)
        ]

    def host_node(self, host: str) -> str:
        """The host's own namespace, named by the host; it holds the node-network interface."""
        ident = f"{host}|host|{HOST}"
        held = self.nodes.get(ident)
        self.nodes[ident] = ObservedNode(ident, host, "host", host, held.lines if held else ())
        return ident

    def tunnels(self) -> None:
        """Each VXLAN end wired to its host's node, and the hosts wired to each other: two
        parts of one overlay network always (Swarm tells each host where the others are), two
        devices of one VNI and port when each sends to the other's host, or when neither names
        a remote (the frames go where learned)."""
        for end in self.ends:
            info = end.link.vxlan
            assert info is not None
            host = self.host_node(end.host)
            self.edge(ObservedEdge(end.node, end.link.ifname, host, "", "vxlan", _vni(end)))
            nic = self.underlay(end)
            if nic:
                self.lines.setdefault(host, []).append(nic)
        for i, one in enumerate(self.ends):
            for other in self.ends[i + 1 :]:
                if one.host != other.host and self.joined(one, other):
                    a, b = self.host_node(one.host), self.host_node(other.host)
                    assert one.link.vxlan is not None
                    label = f"VXLAN {one.link.vxlan.vni} UDP {one.link.vxlan.port}"
                    self.edge(ObservedEdge(a, "", b, "", "vxlan", label))

    def joined(self, one: _End, other: _End) -> bool:
        va, vb = one.link.vxlan, other.link.vxlan
        if va is None or vb is None or (va.vni, va.port) != (vb.vni, vb.port):
            return False
        if one.network or other.network:
            return one.network == other.network
        if not va.remote and not vb.remote:
            return True
        return va.remote in self.addresses(other.host) and vb.remote in self.addresses(one.host)

    def addresses(self, host: str) -> set[str]:
        ns = self.snaps[host].namespace(HOST)
        return {a.address for a in ns.addresses} if ns else set()

    def underlay(self, end: _End) -> str:
        """`IFNAME ADDRESS/PREFIX` of the interface in the host's namespace that carries the
        end's UDP, or "" when the snapshot cannot tell.

        A lab's VXLAN names it (its `dev`, or its `local` address). Docker's overlay devices
        name neither: their frames leave from the address the host has in the swarm, which the
        manager's snapshot lists for each node (`swarm_nodes`). A snapshot with neither (none
        from a manager) leaves the one address the host has on a plain interface, neither a
        bridge nor the loopback, which is the node network on the hosts the labs run on."""
        ns = self.snaps[end.host].namespace(HOST)
        if ns is None:
            return ""
        info = end.link.vxlan
        assert info is not None
        wanted = {info.local} - {""} or self.swarm_address(end.host)
        found = [
            a
            for a in ns.addresses
            if a.family == "inet"
            and (a.ifname == info.device if info.device else a.address in wanted)
        ]
        if not found and not info.device and not info.local:
            found = [a for a in ns.addresses if _plain(ns, a.ifname, a.address)]
            found = found if len(found) == 1 else []
        return " ".join(x for a in found[:1] for x in (a.ifname, a.cidr))

    def swarm_address(self, host: str) -> set[str]:
        names = {host, self.snaps[host].host}
        return {
            n.address
            for snap in self.snaps.values()
            for n in snap.swarm_nodes
            if n.hostname in names and n.address
        }

    def local_networks(self) -> None:
        """A Docker network of one host, when the host's node is drawn: wired to that node by
        its Linux bridge's address, which is the host's own (its containers' gateway)."""
        for ident, node in list(self.nodes.items()):
            host = node.host
            if node.kind != "docker-network" or host not in self.snaps or ident not in self.used():
                continue
            snap = self.snaps[host]
            network = snap.network(node.name)
            if network is None:
                continue
            self.lines.setdefault(ident, []).append(f"scope {network.scope}")
            ns = snap.namespace(HOST)
            if ns is None or not network.bridge or f"{host}|host|{HOST}" not in self.used():
                continue
            for addr in ns.addresses:
                if addr.ifname == network.bridge and addr.family == "inet":
                    label = f"{network.bridge} {addr.cidr}"
                    self.edge(
                        ObservedEdge(
                            ident, network.bridge, self.host_node(host), "", "bridge", label
                        )
                    )


def _spans(node: ObservedNode) -> bool:
    return node.kind == "docker-network" and node.host is None


def _vni(end: _End) -> str:
    info = end.link.vxlan
    return f"{end.link.ifname} VNI {info.vni}" if info else end.link.ifname


def _plain(ns: Namespace, ifname: str, address: str) -> bool:
    link = ns.link(ifname)
    if link is None or link.kind in ("bridge", "loopback", "vxlan"):
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not ip.is_loopback and not ip.is_link_local
