"""Canonical names: each volatile value named by what it is in the observed graph.

A random veth name (`vethab12cd3`) is named by the end at its other side (`test2:eth0`), a MAC
and an ifindex by their interface, a container or network id by its name, a netnsid by the
namespace it points at. The names read the same on every run and every machine, whatever the
kernel's counters and Docker's random ids were, so replay, diff and pages compare and draw by
them. A value the snapshots do not know, or know as two different things, has no name here:
its user falls back to numbering by order of appearance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from generator.transcript.records import SnapshotRecord
from generator.transcript.state import Link, Namespace, Snapshot

# The names Docker and other tools give a veth at random; a name a person chose is kept.
VOLATILE_VETH = re.compile(r"veth[0-9a-f]{6,8}")
# Docker's overlay sandboxes: `1-<network id, 10>`, `lb_<network id, 9>`; a swarm network's id
# is base 36, a local one's hex.
_OVERLAY_SANDBOX = re.compile(r"(?:\d+-|lb_)([0-9a-z]{9,10})")
# A user-defined bridge network's Linux bridge, and an overlay's vxlan device in its sandbox.
DOCKER_BRIDGE = re.compile(r"br-([0-9a-f]{12})")
_OVERLAY_VXLAN = re.compile(r"vx-[0-9a-f]{6}-([0-9a-z]{5})")


def namespace_label(ns_id: str, networks: Mapping[str, str] | None = None) -> str:
    """`host`, a named namespace's or container's name, or a mounted one by its file name (an
    overlay sandbox by its network's name when `networks` maps id prefixes to names)."""
    kind, _, name = ns_id.partition(":")
    if kind in ("netns", "container"):
        return name
    if kind == "mounted":
        base = name.rsplit("/", 1)[-1]
        found = _OVERLAY_SANDBOX.fullmatch(base)
        if found and networks:
            owner = next((n for i, n in networks.items() if i.startswith(found[1])), None)
            if owner:
                return f"{base.split(found[1])[0]}{owner}"
        return base
    return ns_id


@dataclass(frozen=True)
class Names:
    """Volatile value -> canonical name, for the values one transcript's snapshots know."""

    veth: Mapping[str, str] = field(default_factory=dict)  # name -> "test2:eth0" (the peer)
    mac: Mapping[str, str] = field(default_factory=dict)  # lower-case MAC -> interface
    ids: Mapping[str, str] = field(default_factory=dict)  # first 12 hex digits -> name
    ifindex: Mapping[str, str] = field(default_factory=dict)  # "12" -> interface
    # (host role or "", viewing namespace id, "N") -> the namespace N names from that viewer.
    nsid: Mapping[tuple[str, str, str], str] = field(default_factory=dict)
    # The IPv4 ranges Docker picked for the networks the lab made: subnet -> network name.
    subnets: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.veth, self.mac, self.ids, self.ifindex, self.nsid, self.subnets))

    def get(self, kind: str, value: str) -> str | None:
        """The name of a value of one of normalize's bound kinds, or None."""
        table = _TABLES.get(kind)
        return getattr(self, table).get(value) if table else None


_TABLES = {"VETH": "veth", "MAC": "mac", "ID": "ids", "IF": "ifindex"}


class _Table:
    """Collects value -> name; a value seen with two different names is ambiguous and dropped."""

    def __init__(self) -> None:
        self.found: dict[object, str] = {}
        self.clashes: set[object] = set()

    def add(self, value: object, name: str) -> None:
        if self.found.setdefault(value, name) != name:
            self.clashes.add(value)

    def result(self) -> dict[object, str]:
        return {k: v for k, v in self.found.items() if k not in self.clashes}


def interface_label(ns: Namespace, link: Link, networks: Mapping[str, str] | None = None) -> str:
    """`NAMESPACE:IFNAME`, a random veth named `veth(PEER)` by the end at its other side."""
    return f"{namespace_label(ns.id, networks)}:{veth_name(link, networks)}"


def veth_name(link: Link, networks: Mapping[str, str] | None = None) -> str:
    """The link's own name, or `veth(NS:IF)` for a randomly named veth whose peer is known, or
    `br(NETWORK)` / `vx(NETWORK)` for the devices Docker names by a network's id."""
    if link.kind == "veth" and link.peer and VOLATILE_VETH.fullmatch(link.ifname):
        return f"veth({namespace_label(link.peer.namespace, networks)}:{link.peer.ifname})"
    found = DOCKER_BRIDGE.fullmatch(link.ifname) or _OVERLAY_VXLAN.fullmatch(link.ifname)
    if found and networks:
        owner = next((n for i, n in networks.items() if i.startswith(found[1])), None)
        if owner:
            return f"{link.ifname[:2]}({owner})"
    return link.ifname


def network_ids(snapshot: Snapshot) -> dict[str, str]:
    return {n.id: n.name for n in snapshot.networks if n.id}


def names(snapshots: Sequence[tuple[str, Snapshot]]) -> Names:
    """The names that a transcript's snapshots give, each `(role, snapshot)`; with more than
    one host, every name starts with its host's role (`node1/test1:eth0`)."""
    tables = {key: _Table() for key in ("veth", "mac", "ids", "ifindex", "nsid", "subnets")}
    hosts = {role for role, _ in snapshots}
    for role, snapshot in snapshots:
        prefix = f"{role}/" if len(hosts) > 1 else ""
        _collect(snapshot, prefix, role if len(hosts) > 1 else "", tables)
    done = {key: table.result() for key, table in tables.items()}
    return Names(
        veth={str(k): v for k, v in done["veth"].items()},
        mac={str(k): v for k, v in done["mac"].items()},
        ids={str(k): v for k, v in done["ids"].items()},
        ifindex={str(k): v for k, v in done["ifindex"].items()},
        nsid={k: v for k, v in done["nsid"].items() if isinstance(k, tuple)},
        subnets={str(k): v for k, v in done["subnets"].items()},
    )


def of_records(records: Sequence[SnapshotRecord]) -> Names | None:
    """The names a transcript's snapshot records give; None for a transcript without any."""
    return names([(r.role or "", r.state) for r in records]) if records else None


def _collect(snapshot: Snapshot, prefix: str, role: str, tables: Mapping[str, _Table]) -> None:
    networks = network_ids(snapshot)
    for ns in snapshot.namespaces:
        for link in ns.links:
            label = prefix + interface_label(ns, link, networks)
            if link.kind == "veth" and link.peer and VOLATILE_VETH.fullmatch(link.ifname):
                tables["veth"].add(link.ifname, prefix + veth_name(link, networks)[5:-1])
            if link.mac and link.kind != "loopback":
                tables["mac"].add(link.mac.lower(), label)
            tables["ifindex"].add(str(link.ifindex), label)
            if link.peer and link.peer_nsid is not None:
                target = prefix + namespace_label(link.peer.namespace, networks)
                for viewer in (ns.id, *ns.aliases):  # a step may look in by either name
                    tables["nsid"].add((role, viewer, str(link.peer_nsid)), target)
        _shared_bridge_macs(ns, tables["mac"])
    for container in snapshot.containers:
        tables["ids"].add(container.id[:12], prefix + container.name)
    for network in snapshot.networks:
        tables["ids"].add(network.id[:12], f"{prefix}network {network.name}")
        made = f"network {network.name}" not in snapshot.preexisting
        if made and network.subnet and "." in network.subnet:
            tables["subnets"].add(network.subnet, network.name)


def _shared_bridge_macs(ns: Namespace, table: _Table) -> None:
    """A bridge takes the lowest MAC of its ports, and which port has it is chance: then no MAC
    of that bridge or its ports is named, or a port would be named in one run and not the next."""
    macs = {link.ifname: link.mac.lower() for link in ns.links}
    for bridge, ports in ns.bridge_ports().items():
        if macs.get(bridge) in {macs.get(port) for port in ports}:
            for name in (bridge, *ports):
                table.clashes.add(macs.get(name, ""))


def keys(snapshot: Snapshot) -> frozenset[str]:
    """What a snapshot holds, one key per thing a lab can make: namespaces, links, containers
    and Docker networks. A later snapshot minus the keys of the one before the lab is what the
    lab made."""
    found: set[str] = set()
    for ns in snapshot.namespaces:
        found.add(f"namespace {ns.id}")
        found.update(f"link {ns.id} {link.ifname}" for link in ns.links)
    found.update(f"container {c.name}" for c in snapshot.containers)
    found.update(f"network {n.name}" for n in snapshot.networks)
    return frozenset(found)


def preexisting(before: Snapshot | None, after: Snapshot) -> tuple[str, ...]:
    """The keys of `after` that were there already `before` the lab, sorted."""
    return tuple(sorted(keys(after) & keys(before))) if before is not None else ()
