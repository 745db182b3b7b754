"""The reachability matrix (issue 13): every endpoint against every other, expected against
actual, with an exit status that tells the truth.

Endpoints are the namespaces and containers of a snapshot (generator.lab.observe.take) with
their IPv4 addresses (not loopback, not link-local). The host itself only when asked, Docker's
own sandboxes never. Every ordered pair is probed by IP, by the prober (generator/lab/prober.py)
that runs once on the host, through its Shell.

What is expected comes from the observed topology (`expect`), refined by rules
(generator/lab/reach_rules.py). A contradiction gets the likely cause recipe can tell from the
firewall (the prober reads the rules that drop packets where a pair failed) and the topology
(generator/lab/reach_causes.py).

Lab addresses only: every target must be an address of an observed endpoint; anything else is
refused before any packet is sent (`check_targets`).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from generator.errors import UserError
from generator.lab import prober
from generator.shell.base import Shell
from generator.transcript.state import HOST, Namespace, Snapshot

TIMEOUT = 120.0
_ENDPOINT_KINDS = ("netns", "container")


@dataclass(frozen=True)
class Address:
    """One IPv4 address of an endpoint, and the L2 segment it is on."""

    ip: str
    prefixlen: int
    ifname: str
    segment: str  # "bridge NS/NAME", "veth NS/IF NS/IF" or "link NS/IF": equal means one L2
    label: str  # how a person names the segment: the bridge, or the Docker network on it
    network: str = ""  # the Docker network whose bridge this is, "" for none

    def contains(self, ip: str) -> bool:
        net = ipaddress.ip_network(f"{self.ip}/{self.prefixlen}", strict=False)
        return ipaddress.ip_address(ip) in net


@dataclass(frozen=True)
class Endpoint:
    name: str  # the netns's or container's name, or `host`
    kind: str  # netns, container or host
    namespace: Namespace
    addresses: tuple[Address, ...]

    @property
    def path(self) -> str:
        return prober.HOST_PATH if self.kind == HOST else self.namespace.path


@dataclass(frozen=True)
class Expectation:
    reach: bool
    why: str  # "same segment br0", "routed via 10.0.0.1", "different Docker networks", a rule


def endpoints(snapshot: Snapshot, with_host: bool = False) -> list[Endpoint]:
    """The namespaces and containers with at least one usable IPv4 address, by name."""
    bridges = {n.bridge: n.name for n in snapshot.networks if n.bridge}
    found = []
    for ns in snapshot.namespaces:
        if ns.kind not in _ENDPOINT_KINDS and not (with_host and ns.kind == HOST):
            continue
        addresses = tuple(
            _address(snapshot, ns, a.ifname, a.address, a.prefixlen, bridges)
            for a in ns.addresses
            if _usable(a.family, a.address)
        )
        if addresses:
            found.append(Endpoint(ns.name if ns.kind != HOST else HOST, ns.kind, ns, addresses))
    return sorted(found, key=lambda e: (e.kind == HOST, e.name))


def _usable(family: str, address: str) -> bool:
    if family != "inet":
        return False
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local)


def _address(
    snapshot: Snapshot,
    ns: Namespace,
    ifname: str,
    ip: str,
    prefixlen: int,
    bridges: dict[str, str],
) -> Address:
    segment, bridge_ns, bridge = _segment(snapshot, ns, ifname)
    network = bridges.get(bridge, "") if bridge_ns == HOST else ""
    label = f"Docker network {network}" if network else (bridge or _veth_label(snapshot, segment))
    spanning = _spanning(snapshot, ns, ifname, ip, segment)
    if spanning is not None:
        segment, label, network = spanning
    return Address(ip, prefixlen, ifname, segment, label, network)


def _spanning(
    snapshot: Snapshot, ns: Namespace, ifname: str, ip: str, segment: str
) -> tuple[str, str, str] | None:
    """(segment, label, Docker network) of a segment that spans hosts: a Docker overlay
    network, or a VXLAN (the interface itself, or a bridge with a VXLAN port). The same key on
    two hosts is one L2 segment, so a matrix across them probes from one to the other."""
    container = next((c for c in snapshot.containers if c.namespace == ns.id), None)
    for attachment in container.networks if container is not None else ():
        network = snapshot.network(attachment.network)
        if attachment.ip == ip and network is not None and network.driver == "overlay":
            return f"overlay {network.name}", f"Docker network {network.name}", network.name
    link = ns.link(ifname)
    if link is not None and link.vxlan is not None:
        return f"vxlan {link.vxlan.vni}", f"VXLAN {link.vxlan.vni}", ""
    if segment.startswith("bridge "):
        where, _, bridge = segment[len("bridge ") :].rpartition("/")
        holder = snapshot.namespace(where)
        for port in holder.links if holder is not None else ():
            if port.master == bridge and port.vxlan is not None:
                return f"vxlan {port.vxlan.vni}", f"VXLAN {port.vxlan.vni} on {bridge}", ""
    return None


def _segment(snapshot: Snapshot, ns: Namespace, ifname: str) -> tuple[str, str, str]:
    """(segment key, the namespace of its bridge, the bridge) for an interface."""
    link = ns.link(ifname)
    if link is None:
        return f"link {ns.id}/{ifname}", "", ""
    if link.kind == "bridge":
        return f"bridge {ns.id}/{ifname}", ns.id, ifname
    if link.master:
        return f"bridge {ns.id}/{link.master}", ns.id, link.master
    if link.kind == "veth" and link.peer is not None:
        other = snapshot.namespace(link.peer.namespace)
        peer = other.link(link.peer.ifname) if other is not None else None
        if other is not None and peer is not None and peer.master:
            return f"bridge {other.id}/{peer.master}", other.id, peer.master
        ends = sorted([f"{ns.id}/{ifname}", f"{link.peer.namespace}/{link.peer.ifname}"])
        return "veth " + " ".join(ends), "", ""
    return f"link {ns.id}/{ifname}", "", ""


def _veth_label(snapshot: Snapshot, segment: str) -> str:
    """`veth A-B` by the names of the namespaces at its ends, for a person and a stable key."""
    if not segment.startswith("veth "):
        return segment
    names = []
    for end in segment[5:].split():
        ns = snapshot.namespace(end.rsplit("/", 1)[0])
        names.append(ns.name if ns is not None else end)
    return "veth " + "-".join(names)


def expect(source: Endpoint, target: Address) -> Expectation:
    """What the observed topology says about source reaching target's address."""
    for mine in source.addresses:
        if mine.segment == target.segment and mine.contains(target.ip):
            return Expectation(True, f"same segment ({target.label})")
    networks = {a.network for a in source.addresses if a.network}
    if target.network and networks and target.network not in networks:
        theirs = ", ".join(sorted(networks))
        return Expectation(False, f"different Docker networks ({theirs} and {target.network})")
    route = _route(source.namespace, target.ip)
    if route is None:
        return Expectation(False, "no route")
    how = f"via {route[1]}" if route[1] else f"on {route[0]}"
    return Expectation(True, f"routed {how}")


def _route(ns: Namespace, ip: str) -> tuple[str, str] | None:
    """(device, gateway) of the longest-prefix route to ip, None when there is none."""
    address = ipaddress.ip_address(ip)
    best: tuple[int, str, str] | None = None
    for route in ns.routes:
        dst = "0.0.0.0/0" if route.dst == "default" else route.dst
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if net.version == 4 and address in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, route.dev, route.gateway)
    return (best[1], best[2]) if best else None


def lab_addresses(found: Sequence[Endpoint]) -> set[str]:
    return {a.ip for e in found for a in e.addresses}


def check_targets(found: Sequence[Endpoint], targets: Sequence[str]) -> None:
    """Lab addresses only: refuse, before any packet, a target that no endpoint holds."""
    allowed = lab_addresses(found)
    for target in targets:
        if target not in allowed:
            raise UserError(
                f"{target} is not an address of the lab: recipe reach probes only the "
                "addresses of the namespaces and containers it observed"
            )


def request(found: Sequence[Endpoint], ports: Sequence[int], timeout: float) -> dict[str, Any]:
    """The prober's input: each endpoint a source, every other endpoint's addresses its targets."""
    return {
        "sources": [
            {"path": e.path, "targets": [a.ip for t in found if t is not e for a in t.addresses]}
            for e in found
        ],
        "owners": {a.ip: e.path for e in found for a in e.addresses},
        "ports": list(ports),
        "timeout": timeout,
        "tries": 2,
    }


def run_prober(shell: Shell, host: str, wanted: dict[str, Any]) -> dict[str, Any]:
    """Run the prober on the host behind shell; its result, or one line of why not."""
    for source in wanted["sources"]:
        check_targets_in(wanted, source["targets"])
    done = shell.run(prober.command(wanted), TIMEOUT)
    output = done.stdout
    for line in output.splitlines():
        if line.startswith("@@rcp-reach-missing"):
            raise UserError(f"{host}: python3 is not installed; recipe reach probes with it")
        if line.startswith(prober.MARK):
            result: dict[str, Any] = json.loads(line[len(prober.MARK) :])
            if "error" in result:
                raise UserError(f"{host}: {result['error']}")
            return result
    said = (done.stderr.strip() or output.strip()).splitlines()
    raise UserError(f"{host}: the prober printed no result: {said[-1] if said else 'nothing'}")


def check_targets_in(wanted: dict[str, Any], targets: Sequence[str]) -> None:
    """The last guard: every target of a request is one of its endpoints' addresses."""
    for target in targets:
        if target not in wanted["owners"]:
            raise UserError(f"{target} is not an address of the lab: refused before any probe")
