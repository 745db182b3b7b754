"""The observed graph of what a lab made, under canonical names, and its drift between runs.

Issue 12, item 4: replay and `recipe diff` compare what the hosts hold, not only what the steps
print, so a rewire that no step prints is still drift, and the report names the edge that
changed ("test2 is on my-bridge in the recording, on bridge now").

`graph(snapshot)` reads one host's Snapshot into a set of facts (graph_facts.Fact): endpoints
(namespaces, containers, Docker networks), veth pairs, bridge ports, VXLAN, addresses, routes,
container attachments and states. Only what the lab made is there: a thing whose key
(state_names.keys) is in `Snapshot.preexisting` is left out, but an edge from a lab-made thing
to a preexisting one stays (a lab's veth on docker0, a lab's container on `bridge`).

Every name is canonical (state_names): a random veth by the end at its other side, a Docker
bridge `br-<id>` by its network, never an ifindex, MAC, netnsid or Docker id, which differ every
run. Left out on purpose, because they differ between kernels, iproute2 or Docker versions, or
between machines, with no difference in what the lab built:
- MTU: its defaults move (a vxlan's follows its underlay, Docker's bridge MTU changed between
  releases), and a link's MAC and ifindex are random or counters;
- operstate beyond up/down: UNKNOWN is what a driver without carrier reporting says (dummy,
  loopback), so it reads as up; LOWERLAYERDOWN is admin-up without carrier, so it reads as down;
- IPv6 link-local addresses (fe80::/10, derived from the random MAC) and kernel routes (they
  follow from the addresses, and kernels add their own, such as multicast);
- route protocol, metric and scope, sysctls, Docker's other fields (image digests, labels,
  created times, MACs, endpoint ids): new releases change or add them;
- addresses and routes of preexisting interfaces and namespaces: the snapshot has no key for an
  address, so a lab's from the machine's own (a DHCP lease on eth0) cannot be told apart;
- a VXLAN's local address: it is the underlay's own address, the machine's, not the lab's;
- the firewall: Docker's own chains differ between releases and iptables backends.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from generator.compare import graph_facts
from generator.compare.graph_facts import Fact, Key
from generator.compare.sides import REPLAY, Sides
from generator.transcript import state_names
from generator.transcript.state import HOST, Link, Namespace, Snapshot

__all__ = ["Fact", "Graph", "drift", "graph"]

_GATEWAY = re.compile(r"gateway_([0-9a-f]{12})")
_ENDPOINT = {HOST: "host", "netns": "namespace", "container": "container"}
_DOCKER_KINDS = ("container", "mounted")  # namespaces that only Docker names


@dataclass(frozen=True)
class Graph:
    """One host's facts, and the parts of its snapshot that could not be read (`blocked`):
    areas such as `ROLE|docker`, which drift() says nothing about on either side."""

    role: str
    facts: frozenset[Fact]
    blocked: frozenset[str] = frozenset()

    def phrases(self) -> list[str]:
        return [fact.phrase for fact in sorted(self.facts, key=_report_order)]


def _report_order(fact: Fact) -> tuple[int, str, str]:
    return (graph_facts.ORDER[fact.kind], fact.subject, fact.value)


def graph(snapshot: Snapshot, role: str = "") -> Graph:
    """The observed graph of what the lab made on one host; with a role, every name starts with
    it (`node1/test1:eth0`), as state_names does for a multi-host transcript."""
    reader = _Reader(snapshot, role)
    for ns in snapshot.namespaces:
        reader.namespace(ns)
    reader.docker()
    return Graph(role, frozenset(reader.facts.values()), _blocked(snapshot.partial, role))


def drift(
    recorded: Sequence[tuple[str, Snapshot]],
    observed: Sequence[tuple[str, Snapshot]],
    sides: Sides = REPLAY,
) -> list[str]:
    """One line per changed edge or thing, in words, in a fixed order; [] when the graphs agree.

    Each side is `(role, snapshot)` per host, one snapshot a host. Names start with the role
    when there is more than one host. Whatever a side could not read (Snapshot.partial: Docker
    unreachable, a namespace not entered) is left out on both sides rather than called missing."""
    roles = {role for role, _ in recorded} | {role for role, _ in observed}
    multi = len(roles) > 1
    was = [graph(snap, role if multi else "") for role, snap in recorded]
    now = [graph(snap, role if multi else "") for role, snap in observed]
    found: list[str] = []
    only_was = sorted({g.role for g in was} - {g.role for g in now})
    only_now = sorted({g.role for g in now} - {g.role for g in was})
    found += [f"host {role} has a snapshot {sides.then}, none {sides.now}" for role in only_was]
    found += [f"host {role} has a snapshot {sides.now}, none {sides.then}" for role in only_now]
    blocked = frozenset().union(*(g.blocked for g in (*was, *now)))
    old = _facts(g for g in was if g.role not in only_was)
    new = _facts(g for g in now if g.role not in only_now)
    old = {f for f in old if not f.areas & blocked}
    new = {f for f in new if not f.areas & blocked}
    return found + graph_facts.lines(old - new, new - old, sides)


def _facts(graphs: Iterable[Graph]) -> set[Fact]:
    return {fact for g in graphs for fact in g.facts}


def _blocked(partial: Sequence[str], role: str) -> frozenset[str]:
    """The areas a partial snapshot could not read, from the reasons state_build gives."""
    found = set()
    for reason in partial:
        if "docker" in reason.lower():
            found.add("docker")
        elif reason == "ip is not installed" or reason.startswith("ip -j printed no JSON"):
            found.add("ip")
        elif reason.startswith("not root"):
            found.add("netns")  # every namespace but the host's
        elif reason.startswith("netns ") and ":" in reason:
            found.add(f"ns:netns:{reason.split()[1].rstrip(':')}")
        elif "iptables" not in reason:  # the firewall is no part of the graph
            found.add("all")  # a reason this does not know: trust nothing of this side
    return frozenset(f"{role}|{area}" for area in found)


class _Reader:
    """Collects one snapshot's facts; a fact read twice (a veth from both ends, an attachment
    from the container and from its network) is one fact, with the areas of both readings."""

    def __init__(self, snapshot: Snapshot, role: str) -> None:
        self.snapshot = snapshot
        self.role = role
        self.prefix = f"{role}/" if role else ""
        self.pre = frozenset(snapshot.preexisting)
        self.ids = state_names.network_ids(snapshot)
        self.subnets = _subnets(snapshot)
        # Docker names a container's endpoint on docker_gwbridge by its sandbox's id, which is
        # the file name of the sandbox's mount.
        self.sandboxes = {
            ns.path.rsplit("/", 1)[-1][:12]: ns.name
            for ns in snapshot.namespaces
            if ns.kind == "container" and ns.path
        }
        self.kinds = {ns.id: ns.kind for ns in snapshot.namespaces}
        self.facts: dict[Key, Fact] = {}
        # Areas are tagged with the role once, and a namespace's read once: graph() must stay
        # within a few milliseconds for a hundred namespaces.
        self.docker_only = self.tag("docker")
        self._ns_areas: dict[str, frozenset[str]] = {}
        self._ns_labels: dict[str, str] = {}
        # (namespace id, ifname) -> canonical ifname, None when it has none (a random veth
        # whose peer is unknown): such a link has no name that would read the same next run.
        self.link_kinds = {
            (ns.id, x.ifname): x.kind for ns in snapshot.namespaces for x in ns.links
        }
        self.names = {
            (ns.id, link.ifname): self._ifname(link)
            for ns in self.snapshot.namespaces
            for link in ns.links
        }

    def tag(self, *areas: str) -> frozenset[str]:
        return frozenset(f"{self.role}|{a}" for a in (*areas, "all"))

    def add(
        self,
        kind: str,
        subject: str,
        value: str,
        areas: frozenset[str],
        parents: Sequence[Key] = (),
    ) -> Key:
        key = (kind, subject, value)
        old = self.facts.get(key)
        if old is None:
            self.facts[key] = Fact(kind, subject, value, areas, tuple(parents))
        elif not areas <= old.areas or not set(parents) <= set(old.parents):
            both = (*old.parents, *parents)
            self.facts[key] = Fact(kind, subject, value, old.areas | areas, both)
        return key

    def made(self, key: str) -> bool:
        return key not in self.pre

    def _ifname(self, link: Link) -> str | None:
        volatile = state_names.VOLATILE_VETH
        if link.kind == "veth" and link.peer is not None and volatile.fullmatch(link.peer.ifname):
            # Both ends random: no name; else its own, as `veth(PEER)` would hold a random one.
            return None if volatile.fullmatch(link.ifname) else link.ifname
        # Docker's `br-<id>` and `vx-<vni>-<id>` come back named by their network.
        name = state_names.veth_name(link, self.ids)
        return None if volatile.fullmatch(name) else name

    def ns_label(self, ns_id: str) -> str:
        if (found := self._ns_labels.get(ns_id)) is None:
            found = self.prefix + state_names.namespace_label(ns_id, self.ids)
            self._ns_labels[ns_id] = found
        return found

    def ns_areas(self, ns_id: str) -> frozenset[str]:
        if (found := self._ns_areas.get(ns_id)) is None:
            areas = ["ip", f"ns:{ns_id}"]
            if ns_id != HOST:
                areas.append("netns")
            if self.kinds.get(ns_id, "mounted") in _DOCKER_KINDS:
                areas.append("docker")
            found = self._ns_areas[ns_id] = self.tag(*areas)
        return found

    def link_areas(self, ns: Namespace, link: Link) -> frozenset[str]:
        areas = self.ns_areas(ns.id)
        if link.peer is not None and state_names.VOLATILE_VETH.fullmatch(link.ifname):
            areas |= self.ns_areas(link.peer.namespace)  # it is named by its peer
        bridge = state_names.DOCKER_BRIDGE
        if bridge.fullmatch(link.ifname) or bridge.fullmatch(link.master):
            areas |= self.docker_only  # named by its network only while Docker can be read
        return areas

    def label(self, ns_id: str, ifname: str) -> str | None:
        name = self.names.get((ns_id, ifname))
        return f"{self.ns_label(ns_id)}:{name}" if name is not None else None

    def endpoint(self, ns_id: str) -> Key:
        kind = _ENDPOINT.get(self.kinds.get(ns_id, "mounted"), "mounted namespace")
        return ("endpoint", self.ns_label(ns_id), kind)

    def namespace(self, ns: Namespace) -> None:
        made = self.made(f"namespace {ns.id}")
        endpoint = self.endpoint(ns.id)
        if made and ns.kind != "container":  # a container's own endpoint comes from Docker
            self.add(*endpoint, self.ns_areas(ns.id))
        addresses: dict[str, list[str]] = {}
        for address in ns.addresses:
            if not _link_local(address.address):
                addresses.setdefault(address.ifname, []).append(self.where(address.cidr))
        for link in ns.links:
            self.link(ns, link, endpoint, addresses.get(link.ifname, ()))
        if made:
            self.routes(ns, endpoint)

    def link(self, ns: Namespace, link: Link, endpoint: Key, addresses: Sequence[str]) -> None:
        label = self.label(ns.id, link.ifname)
        if label is None:
            return
        areas = self.link_areas(ns, link)
        made = self.made(f"link {ns.id} {link.ifname}")
        me: Key = ("interface", label, link.kind)
        if link.master:
            self.port(ns, link, made, areas)
        if not made:
            return
        parents = [endpoint]
        if link.kind == "veth" and link.peer is not None:
            other = self.label(link.peer.namespace, link.peer.ifname)
            if other is not None:  # a peer never read (a namespace not entered) has no name
                ends = [endpoint, self.endpoint(link.peer.namespace)]
                pair = graph_facts.veth(label, other)
                both = areas | self.ns_areas(link.peer.namespace)
                parents.append(self.add("veth", pair, "", both, ends))
        self.add(*me, areas, parents)
        up = "up" if link.state in ("UP", "UNKNOWN") else "down"
        self.add("state", label, up, areas, [me])
        if link.vxlan is not None:
            vx = link.vxlan
            device = self.names.get((ns.id, vx.device)) or vx.device
            value = (
                f"vni {vx.vni}, remote {vx.remote or '-'}, device {device or '-'}, port {vx.port}"
            )
            self.add("vxlan", label, value, areas, [me])
        for cidr in addresses:
            self.add("address", label, cidr, areas, [me])

    def port(self, ns: Namespace, link: Link, made: bool, areas: frozenset[str]) -> None:
        """A port on its bridge (or bond), kept when either side of that edge is the lab's."""
        bridge = self.link_kinds.get((ns.id, link.master))
        master = self.names.get((ns.id, link.master)) or link.master
        bridge_made = self.made(f"link {ns.id} {link.master}")
        if not (made or bridge_made):
            return
        # In the host's namespace a port reads as its name (`port veth(test2:eth0) on docker0`).
        name = self.names.get((ns.id, link.ifname)) or link.ifname
        subject = self.prefix + name if ns.id == HOST else f"{self.ns_label(ns.id)}:{name}"
        # Not the port's own interface as a parent: a veth end that moved is worded by its pair,
        # and the bridge it has left must still be said. Its namespace, or its peer's, explain it.
        parents = [self.endpoint(ns.id)]
        if link.peer is not None:
            parents.append(self.endpoint(link.peer.namespace))
        if bridge is not None and bridge_made:
            parents.append(("interface", f"{self.ns_label(ns.id)}:{master}", bridge))
        self.add("port", subject, master, areas, parents)

    def routes(self, ns: Namespace, endpoint: Key) -> None:
        for route in ns.routes:
            if route.protocol == "kernel" or _link_local(route.dst) or route.dst.startswith("ff"):
                continue
            dev = self.names.get((ns.id, route.dev), route.dev) if route.dev else ""
            text = self.where(route.dst) + (
                f" via {self.where(route.gateway)}" if route.gateway else ""
            )
            text += f" dev {dev}" if dev else ""
            self.add("route", self.ns_label(ns.id), text, self.ns_areas(ns.id), [endpoint])

    def where(self, address: str) -> str:
        """An address in a Docker network's range as its place there (`my-bridge+4`): Docker
        picks the range and its size from what earlier labs left; only the place is the lab's."""
        ip, slash, length = address.partition("/")
        try:
            value = ipaddress.ip_address(ip)
        except ValueError:
            return address  # `default`, a name
        for network, name in self.subnets:
            if value in network:
                offset = int(value) - int(network.network_address)
                return f"{name}+{offset}"
        return address

    def member(self, name: str) -> str:
        """A network member by name; Docker's `gateway_<sandbox id>` by its container."""
        found = _GATEWAY.fullmatch(name)
        if found and found[1] in self.sandboxes:
            return f"gateway({self.sandboxes[found[1]]})"
        return name

    def docker(self) -> None:
        snap, p = self.snapshot, self.prefix
        for c in snap.containers:
            if not self.made(f"container {c.name}"):
                continue
            me = self.add("endpoint", p + c.name, "container", self.docker_only)
            self.add("container-state", p + c.name, c.state, self.docker_only, [me])
            for att in c.networks:
                on = self.add("attachment", p + c.name, att.network, self.docker_only, [me])
                if att.ip:
                    cidr = self.where(f"{att.ip}/{att.prefixlen}")
                    subject = f"{p}{c.name} on {att.network}"
                    self.add("attachment-ip", subject, cidr, self.docker_only, [on])
        for net in snap.networks:
            made = self.made(f"network {net.name}")
            if made:  # its driver, not its subnet: Docker picks a range, and its size, from
                # what earlier labs left (172.18.0.0/16 fresh, 192.168.16.0/20 once /16s are used)
                self.add("network", p + net.name, net.driver, self.docker_only)
            for found in net.members:  # the same edge seen from the network's side
                member = self.member(found)
                if made or self.made(f"container {member}"):
                    parent: Key = ("endpoint", p + member, "container")
                    self.add("attachment", p + member, net.name, self.docker_only, [parent])
        for node in snap.swarm_nodes:
            self.add("swarm", p + node.hostname, node.role, self.docker_only)


def _subnets(snapshot: Snapshot) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    found = []
    for net in snapshot.networks:
        try:
            found.append((ipaddress.ip_network(net.subnet, strict=False), net.name))
        except ValueError:
            continue  # no subnet (host, none, null drivers)
    return found


def _link_local(address: str) -> bool:
    return address.lower().startswith(("fe8", "fe9", "fea", "feb"))
