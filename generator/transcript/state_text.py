"""A Snapshot as tables for a person (`recipe state`), in the spirit of `clab inspect`.

Every value may come from a remote host, so each cell passes through visible(): a link named
with escape codes cannot rewrite the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from generator.transcript.state import Link, Namespace, Snapshot
from generator.visible import visible


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    cells = [list(header), *([visible(c) for c in row] for row in rows)]
    if len(cells) == 1:
        return []
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in cells
    ]


def _detail(link: Link) -> str:
    if link.peer is not None:
        return f"peer {link.peer.namespace}/{link.peer.ifname}"
    if link.vxlan is not None:
        v = link.vxlan
        return f"vni {v.vni} remote {v.remote or '-'} dev {v.device or '-'} port {v.port}"
    if link.kind == "veth" and link.peer_ifindex is not None:
        return f"peer ifindex {link.peer_ifindex} netnsid {link.peer_nsid} (unresolved)"
    return ""


def _link_rows(ns: Namespace) -> Iterable[list[str]]:
    for link in ns.links:
        addresses = " ".join(a.cidr for a in ns.addresses if a.ifname == link.ifname)
        yield [
            ns.id,
            link.ifname,
            link.kind,
            link.state,
            link.mac,
            str(link.mtu),
            link.master or "-",
            addresses or "-",
            _detail(link),
        ]


def render(snapshot: Snapshot) -> str:
    """The snapshot as text: links, containers, networks, swarm nodes, firewall changes."""
    lines = [f"host {snapshot.host}" + (" (partial)" if snapshot.is_partial else "")]
    lines += [f"  partial: {reason}" for reason in snapshot.partial]
    lines += [""] + table(
        ("NAMESPACE", "LINK", "KIND", "STATE", "MAC", "MTU", "MASTER", "ADDRESSES", "DETAIL"),
        (row for ns in snapshot.namespaces for row in _link_rows(ns)),
    )
    container_rows = [
        [
            c.name,
            c.image,
            c.state,
            c.namespace or "-",
            " ".join(f"{a.network}:{a.ip}/{a.prefixlen}" for a in c.networks if a.ip) or "-",
            " ".join(a.mac for a in c.networks if a.mac) or "-",
        ]
        for c in snapshot.containers
    ]
    if container_rows:
        header = ("CONTAINER", "IMAGE", "STATE", "NAMESPACE", "NETWORKS", "MAC")
        lines += [""] + table(header, container_rows)
    network_rows = [
        [n.name, n.driver, n.subnet or "-", n.gateway or "-", n.bridge or "-", ",".join(n.members)]
        for n in snapshot.networks
    ]
    if network_rows:
        header = ("NETWORK", "DRIVER", "SUBNET", "GATEWAY", "BRIDGE", "MEMBERS")
        lines += [""] + table(header, network_rows)
    node_rows = [
        [n.hostname, n.role, n.state, n.availability, n.address] for n in snapshot.swarm_nodes
    ]
    if node_rows:
        lines += [""] + table(("NODE", "ROLE", "STATE", "AVAILABILITY", "ADDRESS"), node_rows)
    if snapshot.iptables is not None:
        lines += ["", "iptables since the baseline:"]
        lines += [f"  + {rule}" for rule in snapshot.iptables.added]
        lines += [f"  - {rule}" for rule in snapshot.iptables.removed]
    return "\n".join(lines)
