"""The observed state of one host: namespaces, links, addresses, routes, Docker and firewall.

Pure data. generator/lab/observe.py collects it through a Shell; generator/transcript/state_parse.py
turns what `ip -j`, Docker and `iptables-save` print into it. It lives in the transcript room
because a run records it (issue 12), and a transcript must read without any transport.

Namespaces are named by an id that says what they are, not by a kernel counter: `host`,
`netns:NAME` (`ip netns`), `container:NAME` (a container's sandbox) or `mounted:PATH` (any
other namespace mounted somewhere, e.g. the swarm's ingress_sbox). A veth's peer points at such
an id, so it reads the same on every machine, whatever netnsid the kernel handed out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

HOST = "host"


@dataclass(frozen=True)
class Peer:
    """The other end of a veth: the namespace id and the interface name there."""

    namespace: str
    ifname: str


@dataclass(frozen=True)
class Vxlan:
    vni: int
    remote: str  # the remote VTEP, or the multicast group; "" when learned (no remote given)
    local: str
    device: str  # the underlay interface ("" when none was given)
    port: int


@dataclass(frozen=True)
class Link:
    ifname: str
    ifindex: int
    kind: str  # linkinfo's kind: veth, bridge, vxlan, dummy, ...; "device" for a plain NIC
    state: str  # operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN
    mac: str
    mtu: int
    master: str = ""  # the bridge (or bond) this link is a port of
    peer: Peer | None = None  # veth only, resolved across namespaces
    vxlan: Vxlan | None = None
    # What the kernel said about the peer, kept for peers that could not be resolved.
    peer_ifindex: int | None = None
    peer_nsid: int | None = None


@dataclass(frozen=True)
class Address:
    ifname: str
    family: str  # inet or inet6
    address: str
    prefixlen: int

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass(frozen=True)
class Route:
    dst: str
    dev: str = ""
    gateway: str = ""
    protocol: str = ""
    scope: str = ""


@dataclass(frozen=True)
class Namespace:
    id: str  # host, netns:NAME, container:NAME or mounted:PATH
    kind: str  # host, netns, container or mounted
    name: str
    links: tuple[Link, ...] = ()
    addresses: tuple[Address, ...] = ()
    routes: tuple[Route, ...] = ()
    path: str = ""  # where it is mounted (/run/netns/NAME, Docker's sandbox key)
    # Other ids it was found under: a container's namespace linked into /run/netns by hand.
    aliases: tuple[str, ...] = ()

    def link(self, ifname: str) -> Link | None:
        return next((link for link in self.links if link.ifname == ifname), None)

    def bridge_ports(self) -> dict[str, tuple[str, ...]]:
        """Bridge name -> its ports, sorted by name so the order never follows a kernel index."""
        bridges = {link.ifname for link in self.links if link.kind == "bridge"}
        ports: dict[str, list[str]] = {name: [] for name in sorted(bridges)}
        for link in self.links:
            if link.master in ports:
                ports[link.master].append(link.ifname)
        return {name: tuple(sorted(found)) for name, found in ports.items()}


@dataclass(frozen=True)
class Attachment:
    """One network a container is on, as Docker reports it."""

    network: str
    ip: str
    prefixlen: int
    mac: str
    gateway: str


@dataclass(frozen=True)
class Container:
    name: str
    id: str
    image: str
    state: str  # running, exited, created, ...
    namespace: str  # the namespace id of its sandbox, "" when it has none (stopped)
    networks: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class DockerNetwork:
    name: str
    id: str
    driver: str
    subnet: str
    gateway: str
    bridge: str  # the Linux bridge of a bridge network ("" for other drivers)
    members: tuple[str, ...] = ()  # container names, sorted
    scope: str = ""


@dataclass(frozen=True)
class SwarmNode:
    hostname: str
    role: str
    state: str
    availability: str
    address: str


@dataclass(frozen=True)
class IptablesDiff:
    """Rules added and removed since the baseline, as `TABLE: RULE` lines of iptables-save."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    host: str
    namespaces: tuple[Namespace, ...] = ()
    containers: tuple[Container, ...] = ()
    networks: tuple[DockerNetwork, ...] = ()
    swarm_nodes: tuple[SwarmNode, ...] = ()
    iptables: IptablesDiff | None = None  # None: no baseline was taken
    # Why parts are missing ("ip not found", "Docker engine not reachable: ..."); empty: whole.
    partial: tuple[str, ...] = ()
    # What was there before the lab began (state_names.keys): the rest is what the lab made,
    # which is what replay compares. Empty: no snapshot was taken before.
    preexisting: tuple[str, ...] = ()

    @property
    def is_partial(self) -> bool:
        return bool(self.partial)

    def namespace(self, id: str) -> Namespace | None:
        return next((ns for ns in self.namespaces if ns.id == id), None)

    def container(self, name: str) -> Container | None:
        return next((c for c in self.containers if c.name == name), None)

    def network(self, name: str) -> DockerNetwork | None:
        return next((n for n in self.networks if n.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: dataclasses as objects, tuples as lists."""
        data = dataclasses.asdict(self)
        data["is_partial"] = self.is_partial
        return data
