"""A recipe's declared topology (topology.toml.j2) checked against what the run observed.

`check_declared(topology, snapshots)` gives one line per thing declared but not observed: a node,
a link between two ends, a node's attachment to a network, an address. What the lab made and
the declaration leaves out is not a mismatch: a declaration may draw less than there is.

Names are matched as the declaration writes them: a node by its name (a Docker network also by
its Linux bridge, so `docker0` is the network `bridge`), on the host a `ROLE/` prefix or the
node's `on` names; a link end `NODE:IFNAME` by an observed edge at that node whose interface at
that end has that name (a bridge's end is the port's name), a bare `NODE` by any edge there.
Two ends that both join one observed segment (a VXLAN group) are linked too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from generator.compare.observed import ObservedEdge, ObservedGraph, addresses_of, observe
from generator.transcript.records import SnapshotRecord

# Link kinds the network state cannot show: a legacy `docker run --link` lives in the
# container's /etc/hosts and configuration, not in any namespace, bridge or network.
UNOBSERVABLE_KINDS = frozenset({"docker-link"})
HOST = "host"


def check_declared(
    topology: Mapping[str, Any],
    snapshots: Sequence[SnapshotRecord],
    hosts: Sequence[str] = (),
) -> list[str]:
    """The mismatch lines between a declared topology and the snapshots of a run; [] when
    there is nothing declared or nothing observed. `hosts`: the recipe's host roles (by default
    the roles the snapshots were taken on). A link end naming no declared node is an error line,
    never a guessed node."""
    graph = observe(snapshots)
    if not topology or graph is None:
        return []
    roles = set(hosts) | set(graph.hosts)
    check = _Check(graph, roles)
    declared = check.declared_nodes(topology)
    lines = check.nodes(declared)
    lines += check.attachments(topology)
    for link in topology.get("links", []):
        lines += check.link(link, declared)
    lines += check.addresses(topology)
    lines += [
        f"the observation is partial ({why}): what it missed is reported too"
        for why in graph.partial
        if lines
    ]
    return lines


class _Check:
    def __init__(self, graph: ObservedGraph, roles: set[str]) -> None:
        self.graph, self.roles = graph, roles

    def split(self, ident: str) -> tuple[str | None, str]:
        role, sep, name = ident.partition("/")
        return (role, name) if sep and role in self.roles else (None, ident)

    def find(self, host: str | None, name: str) -> list[str]:
        """Idents of the observed nodes a declared name on a host can be."""
        if host is not None and host not in self.graph.hosts:
            host = None  # drawn without host boxes: one host only
        return [
            n.ident
            for n in self.graph.nodes
            if (name == n.name or name in n.aliases)
            and (host is None or n.host is None or n.host == host)
        ]

    def declared_nodes(self, topology: Mapping[str, Any]) -> dict[str, tuple[str | None, str]]:
        """Declared identity (`ROLE/NAME` or `NAME`) -> (host, name)."""
        found: dict[str, tuple[str | None, str]] = {}
        for node in topology.get("nodes", []):
            name, on = str(node["name"]), str(node.get("on") or "")
            host = on if on in self.roles else None
            found[f"{on}/{name}" if host else name] = (host, name)
        return found

    def nodes(self, declared: Mapping[str, tuple[str | None, str]]) -> list[str]:
        return [
            f"declared node {ident} is not observed"
            for ident, (host, name) in declared.items()
            if not self.find(host, name)
        ]

    def attachments(self, topology: Mapping[str, Any]) -> list[str]:
        """A node `on` something other than a host role is attached to it (a Docker network)."""
        lines = []
        for node in topology.get("nodes", []):
            name, on = str(node["name"]), str(node.get("on") or "")
            if not on or on in self.roles:
                continue
            here, there = self.find(None, name), self.find(None, on)
            if here and not self.joined((here, ""), (there, "")):
                lines.append(f"declared node {name} on {on} is not observed attached to it")
        return lines

    def resolve(
        self, end: str, declared: Mapping[str, tuple[str | None, str]]
    ) -> tuple[list[str], str] | str:
        """(candidate nodes, ifname) of a link end, or the error line when it names no node."""
        ident, _, ifname = str(end).partition(":")
        if ident in declared:
            host, name = declared[ident]
        else:
            matches = [key for key, (_, name) in declared.items() if name == ident]
            if len(matches) == 1:
                host, name = declared[matches[0]]
            elif ident == HOST or self.split(ident)[1] == HOST:
                host, name = self.split(ident)
            elif matches:
                return f"topology: link end {end} could be {', '.join(matches)}; write ROLE/{ident}"
            else:
                return f"topology: link end {end} names no declared node"
        return self.find(host, name), ifname

    def link(
        self, link: Mapping[str, Any], declared: Mapping[str, tuple[str | None, str]]
    ) -> list[str]:
        ends = [str(end) for end in link.get("ends", [])]
        resolved = [self.resolve(end, declared) for end in ends]
        errors = [r for r in resolved if isinstance(r, str)]
        if errors:
            return errors
        if str(link.get("kind", "link")) in UNOBSERVABLE_KINDS or len(ends) < 2:
            return []
        found = [r for r in resolved if not isinstance(r, str)]
        if len(found) == 2 and self.joined(found[0], found[1]):
            return []
        if len(found) > 2 and self.share_segment(found):
            return []
        return [f"declared link {' - '.join(ends)} is not observed"]

    def joined(self, a: tuple[list[str], str], b: tuple[list[str], str]) -> bool:
        if any(_matches(e, a, b) for e in self.graph.edges):
            return True
        return self.share_segment([a, b], ("segment",))

    def share_segment(
        self,
        ends: Sequence[tuple[list[str], str]],
        kinds: tuple[str, ...] = ("segment", "bridge", "docker-network"),
    ) -> bool:
        """Every end has an edge to one and the same hub: a segment (a VXLAN group) for a link
        of two ends, or a bridge or network too for a link of more."""
        hubs = [n.ident for n in self.graph.nodes if n.kind in kinds]
        return any(
            all(any(_matches(e, end, ([hub], "")) for e in self.graph.edges) for end in ends)
            for hub in hubs
        )

    def addresses(self, topology: Mapping[str, Any]) -> list[str]:
        seen = addresses_of(self.graph)
        lines = []
        for addr in topology.get("addresses", []):
            host, name = self.split(str(addr["node"]))
            ifname, cidr = str(addr.get("ifname", "")), str(addr["address"])
            if host is not None and host not in self.graph.hosts:
                host = None
            held = [
                pair
                for (h, ns), pairs in seen.items()
                for pair in pairs
                if ns == name and (host is None or h == host)
            ]
            if not any(c == cidr and (not ifname or i == ifname) for i, c in held):
                where = f"{addr['node']}:{ifname}" if ifname else str(addr["node"])
                lines.append(f"declared address {cidr} on {where} is not observed")
        return lines


def _matches(edge: ObservedEdge, a: tuple[list[str], str], b: tuple[list[str], str]) -> bool:
    """The edge joins a node of `a` at its interface to a node of `b` at its interface, either
    way round; an end without an interface matches any."""

    def at(node: str, ifname: str, end: tuple[list[str], str]) -> bool:
        return node in end[0] and (not end[1] or ifname == end[1])

    return (at(edge.a, edge.a_if, a) and at(edge.b, edge.b_if, b)) or (
        at(edge.b, edge.b_if, a) and at(edge.a, edge.a_if, b)
    )
