"""What a host prints, turned into a state Snapshot (generator/transcript/state.py).

The input is the output of ONE batched shell command (generator/lab/observe.py writes it): one
section per namespace, each headed by a marker line and holding four JSON arrays, one a line, as
`ip -j -d -batch -` prints them for `link show`, `addr show`, `route show` and `netns list-id`;
then iptables-save's text and, for a remote host, Docker's inspect JSON. Docker objects come in
as the attrs dicts of the Docker SDK's models, whichever way they were read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from generator.transcript.state import (
    Address,
    Attachment,
    Container,
    DockerNetwork,
    IptablesDiff,
    Link,
    Namespace,
    Peer,
    Route,
    SwarmNode,
    Vxlan,
)

MARK = "@@rcp"
Json = Any  # what json.loads returns: the sections are checked field by field as they are read


@dataclass
class Section:
    words: list[str]  # the marker line's words after MARK
    body: list[str] = field(default_factory=list)


def sections(output: str) -> list[Section]:
    found: list[Section] = []
    for line in output.splitlines():
        if line.startswith(MARK + " "):
            found.append(Section(line.split()[1:]))
        elif found:
            found[-1].body.append(line)
    return found


def json_values(text: str) -> list[Json]:
    """Every JSON value in text, one after the other (ip -batch prints one array per command).
    Stops at the first thing that is not JSON: an error message of ip or nsenter."""
    decoder = json.JSONDecoder()
    values: list[Json] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return values
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return values
        values.append(value)


@dataclass
class RawNamespace:
    """A namespace as read, before its veth peers are resolved across namespaces."""

    namespace: Namespace
    nsids: dict[int, str]  # nsid, as this namespace sees it -> namespace id (named ones only)


def namespace_from(
    id: str, kind: str, name: str, path: str, body: str | Sequence[Json]
) -> RawNamespace | None:
    """One namespace section, as text or as its lists already read (generator/lab/netlink.py);
    None when it holds no `ip -j` output (a mount of another namespace type, which nsenter
    cannot enter as a network namespace, or an ip without -j)."""
    values = json_values(body) if isinstance(body, str) else list(body)
    if len(values) < 4 or not all(isinstance(v, list) for v in values[:4]):
        return None
    links, addrs, routes, ids = values[:4]
    nsids = {
        int(entry["nsid"]): f"netns:{entry['name']}"
        for entry in ids
        if isinstance(entry, dict) and "name" in entry and "nsid" in entry
    }
    ns = Namespace(
        id=id,
        kind=kind,
        name=name,
        links=tuple(_link(item) for item in links if isinstance(item, dict)),
        addresses=tuple(_addresses(addrs)),
        routes=tuple(_route(item) for item in routes if isinstance(item, dict)),
        path=path,
    )
    return RawNamespace(ns, nsids)


def _link(item: Mapping[str, Json]) -> Link:
    info = item.get("linkinfo") or {}
    kind = str(info.get("info_kind") or ("loopback" if item.get("link_type") == "loopback" else ""))
    peer = None
    if kind == "veth" and isinstance(item.get("link"), str) and "link_netnsid" not in item:
        peer = Peer("", item["link"])  # the peer is in this namespace; "" is filled in later
    return Link(
        ifname=str(item.get("ifname", "")),
        ifindex=int(item.get("ifindex", 0)),
        kind=kind or "device",
        state=str(item.get("operstate", "")),
        mac=str(item.get("address", "")),
        mtu=int(item.get("mtu", 0)),
        master=str(item.get("master", "")),
        peer=peer,
        vxlan=_vxlan(info.get("info_data") or {}) if kind == "vxlan" else None,
        peer_ifindex=_int_or_none(item.get("link_index")),
        peer_nsid=_int_or_none(item.get("link_netnsid")),
    )


def _int_or_none(value: Json) -> int | None:
    return int(value) if isinstance(value, int) else None


def _vxlan(data: Mapping[str, Json]) -> Vxlan:
    return Vxlan(
        vni=int(data.get("id", 0)),
        remote=str(data.get("remote") or data.get("group") or ""),
        local=str(data.get("local", "")),
        device=str(data.get("link", "")),
        port=int(data.get("port", 0)),
    )


def _addresses(items: Iterable[Json]) -> Iterable[Address]:
    for item in items:
        if not isinstance(item, dict):
            continue
        for info in item.get("addr_info", []):
            if "local" in info:
                yield Address(
                    ifname=str(item.get("ifname", "")),
                    family=str(info.get("family", "")),
                    address=str(info["local"]),
                    prefixlen=int(info.get("prefixlen", 0)),
                )


def _route(item: Mapping[str, Json]) -> Route:
    return Route(
        dst=str(item.get("dst", "")),
        dev=str(item.get("dev", "")),
        gateway=str(item.get("gateway", "")),
        protocol=str(item.get("protocol", "")),
        scope=str(item.get("scope", "")),
    )


def resolve_peers(raw: Sequence[RawNamespace]) -> tuple[Namespace, ...]:
    """Each veth's peer as (namespace id, ifname).

    A peer in another namespace is known to the kernel only as (netnsid, ifindex), and a netnsid
    is a per-namespace counter. `ip netns list-id` names the named namespaces; a container's has
    no name, so its end is found as the one veth elsewhere whose ifindex is our peer's ifindex
    and whose peer ifindex is ours. Where that is ambiguous, the peer stays unresolved."""
    by_id = {r.namespace.id: r.namespace for r in raw}
    done = []
    for r in raw:
        links = tuple(_resolved(link, r, by_id) for link in r.namespace.links)
        done.append(replace(r.namespace, links=links))
    return tuple(done)


def _resolved(link: Link, raw: RawNamespace, by_id: Mapping[str, Namespace]) -> Link:
    here = raw.namespace
    if link.kind != "veth":
        return link
    if link.peer is not None:
        return replace(link, peer=Peer(here.id, link.peer.ifname))
    if link.peer_ifindex is None:
        return link
    if link.peer_nsid is None:
        found = [x for x in here.links if x.ifindex == link.peer_ifindex]
        return replace(link, peer=Peer(here.id, found[0].ifname)) if found else link
    named = raw.nsids.get(link.peer_nsid, "")
    candidates = [by_id[named]] if named in by_id else [ns for ns in by_id.values() if ns != here]
    ends = [
        Peer(ns.id, other.ifname)
        for ns in candidates
        for other in ns.links
        if other.kind == "veth"
        and other.ifindex == link.peer_ifindex
        and (named in by_id or other.peer_ifindex == link.ifindex)
    ]
    return replace(link, peer=ends[0]) if len(ends) == 1 else link


def containers(attrs: Iterable[Mapping[str, Json]]) -> tuple[Container, ...]:
    """Containers from `docker inspect` attrs (Container.attrs of the SDK), sorted by name."""
    found = []
    for a in attrs:
        settings = a.get("NetworkSettings") or {}
        key = str(settings.get("SandboxKey") or "")
        nets = settings.get("Networks") or {}
        found.append(
            Container(
                name=str(a.get("Name", "")).lstrip("/"),
                id=str(a.get("Id", "")),
                image=str((a.get("Config") or {}).get("Image", "")),
                state=str((a.get("State") or {}).get("Status", "")),
                namespace=f"sandbox:{key}" if key else "",  # named for real in label_sandboxes
                networks=tuple(
                    Attachment(
                        network=name,
                        ip=str(n.get("IPAddress", "")),
                        prefixlen=int(n.get("IPPrefixLen") or 0),
                        mac=str(n.get("MacAddress", "")),
                        gateway=str(n.get("Gateway", "")),
                    )
                    for name, n in sorted(nets.items())
                ),
            )
        )
    return tuple(sorted(found, key=lambda c: c.name))


def networks(attrs: Iterable[Mapping[str, Json]]) -> tuple[DockerNetwork, ...]:
    """Networks from `docker network inspect` attrs, sorted by name."""
    found = []
    for a in attrs:
        ipam = ((a.get("IPAM") or {}).get("Config") or [{}])[0] or {}
        driver = str(a.get("Driver", ""))
        options = a.get("Options") or {}
        bridge = str(options.get("com.docker.network.bridge.name") or "")
        if driver == "bridge" and not bridge:
            bridge = f"br-{str(a.get('Id', ''))[:12]}"  # Docker's own name for it
        members = (str(c.get("Name", "")) for c in (a.get("Containers") or {}).values())
        found.append(
            DockerNetwork(
                name=str(a.get("Name", "")),
                id=str(a.get("Id", "")),
                driver=driver,
                subnet=str(ipam.get("Subnet", "")),
                gateway=str(ipam.get("Gateway", "")),
                bridge=bridge,
                members=tuple(sorted(members)),
                scope=str(a.get("Scope", "")),
            )
        )
    return tuple(sorted(found, key=lambda n: n.name))


def swarm_nodes(attrs: Iterable[Mapping[str, Json]]) -> tuple[SwarmNode, ...]:
    nodes = [
        SwarmNode(
            hostname=str((a.get("Description") or {}).get("Hostname", "")),
            role=str((a.get("Spec") or {}).get("Role", "")),
            state=str((a.get("Status") or {}).get("State", "")),
            availability=str((a.get("Spec") or {}).get("Availability", "")),
            address=str((a.get("Status") or {}).get("Addr", "")),
        )
        for a in attrs
    ]
    return tuple(sorted(nodes, key=lambda n: n.hostname))


def canonical_path(path: str) -> str:
    """Docker names a sandbox /var/run/docker/netns/X; the mount table, through the /var/run
    symlink, /run/docker/netns/X."""
    return "/run/" + path[len("/var/run/") :] if path.startswith("/var/run/") else path


def sandbox_labels(found: Iterable[Container]) -> dict[str, str]:
    """Sandbox key (canonical) -> the namespace id of the container that owns it."""
    return {
        canonical_path(c.namespace.removeprefix("sandbox:")): f"container:{c.name}"
        for c in found
        if c.namespace
    }


def iptables_rules(text: str) -> frozenset[str]:
    """iptables-save as `TABLE: LINE` items, without comments and packet counters, which change
    with every packet and are no part of what a lab set up."""
    rules: set[str] = set()
    table = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:]
            continue
        if line.startswith(":"):
            line = line.rsplit(" [", 1)[0]  # ":FORWARD DROP [12:345]" -> ":FORWARD DROP"
        rules.add(f"{table}: {line}")
    return frozenset(rules)


def iptables_diff(before: frozenset[str], after: frozenset[str]) -> IptablesDiff:
    return IptablesDiff(added=tuple(sorted(after - before)), removed=tuple(sorted(before - after)))
