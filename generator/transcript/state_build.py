"""One host's Snapshot from the batched command's output and Docker's attrs (pure: no I/O).

generator/lab/observe.py runs the command and reads Docker; this puts the pieces together:
namespaces named by what they are (a Docker sandbox by its container), veth peers resolved,
the firewall as a difference from a baseline, and every missing part named in `partial`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from generator.transcript import state_parse as parse
from generator.transcript.state import Container, Snapshot

Attrs = Mapping[str, Any]
# kind, name, path, the four `ip -j` lists, the namespace's inode (0: unknown)
Section = tuple[str, str, str, Sequence[Any], int]
# Which one to keep of two ids for one namespace: what it is over how it was found.
_RANK = {"host": 0, "container": 1, "netns": 2, "mounted": 3}


@dataclass(frozen=True)
class DockerAttrs:
    """What Docker said, as the attrs of the SDK's Container, Network and Node models."""

    containers: tuple[Attrs, ...] = ()
    networks: tuple[Attrs, ...] = ()
    nodes: tuple[Attrs, ...] = ()


def docker_from_output(output: str) -> DockerAttrs | str | None:
    """Docker's inspect JSON as a remote host printed it; a reason when its engine could not
    be read; None when the output holds no Docker part."""
    found: dict[str, list[Attrs]] = {}
    for section in parse.sections(output):
        head = section.words[0] if section.words else ""
        if head == "no-docker":
            return " ".join(section.words[1:])
        if head in ("docker-containers", "docker-networks", "docker-nodes"):
            values = parse.json_values("\n".join(section.body))
            items = values[0] if values and isinstance(values[0], list) else None
            if items is None:
                return f"{head.replace('-', ' ')}: Docker printed no JSON"
            found[head] = [item for item in items if isinstance(item, dict)]
    if not found:
        return None
    return DockerAttrs(
        tuple(found.get("docker-containers", [])),
        tuple(found.get("docker-networks", [])),
        tuple(found.get("docker-nodes", [])),
    )


def build(
    host: str,
    output: str,
    docker: DockerAttrs | None,
    problems: Sequence[str] = (),
    baseline: frozenset[str] | None = None,
    read: Sequence[Section] = (),
) -> Snapshot:
    """The snapshot of one host. `problems` are reasons found while collecting (the Docker
    engine unreachable, say); they and whatever this output lacks make the snapshot partial.
    `read`: namespaces read in this process (generator/lab/netlink.py), in place of the
    output's `ns` sections."""
    partial = list(problems)
    containers = parse.containers(docker.containers) if docker else ()
    labels = parse.sandbox_labels(containers)
    raw: list[parse.RawNamespace] = []
    inodes: dict[str, int] = {}  # mount path -> inode
    for kind, name, path, values, inode in read:
        found = _namespace(kind, name, path, values, labels)
        if found is not None:
            raw.append(found)
            inodes[path if kind != "host" else "/proc/self/ns/net"] = inode
    iptables_text: str | None = None
    for section in parse.sections(output):
        words = section.words
        if words[:1] == ["inodes"]:
            inodes.update(_inodes(section.body))
        elif words[:1] == ["missing"]:
            partial.append(f"{' '.join(words[1:])} is not installed")
        elif words[:1] == ["unprivileged"]:
            partial.append("not root: namespaces other than this shell's could not be entered")
        elif words[:1] == ["iptables"]:
            iptables_text = "\n".join(section.body)
        elif words[:1] == ["ns"] and len(words) >= 4:
            found = _namespace(words[1], words[2], words[3], "\n".join(section.body), labels)
            if found is not None:
                raw.append(found)
            elif words[1] == "host":
                partial.append("ip -j printed no JSON (iproute2 older than 4.14?)")
            elif words[1] == "netns":  # a mount that is no network namespace is no loss; this is
                partial.append(f"netns {words[2]}: ip -n printed no JSON (not root?)")
    namespaces = parse.resolve_peers(_once_each(raw, inodes))
    containers = _with_namespaces(containers, labels, {ns.id for ns in namespaces})
    iptables = None
    if baseline is not None and iptables_text is not None:
        iptables = parse.iptables_diff(baseline, parse.iptables_rules(iptables_text))
    elif baseline is not None:
        partial.append("iptables-save gave nothing to compare with the baseline")
    return Snapshot(
        host=host,
        namespaces=namespaces,
        containers=containers,
        networks=parse.networks(docker.networks) if docker else (),
        swarm_nodes=parse.swarm_nodes(docker.nodes) if docker else (),
        iptables=iptables,
        partial=tuple(dict.fromkeys(partial)),  # each reason once, in the order found
    )


def _inodes(lines: Sequence[str]) -> dict[str, int]:
    found = {}
    for line in lines:
        inode, _, path = line.partition(" ")
        if inode.isdigit() and path:
            found[path] = int(inode)
    return found


def _once_each(
    raw: list[parse.RawNamespace], inodes: Mapping[str, int]
) -> list[parse.RawNamespace]:
    """Each namespace once: one found both as a container's sandbox and as a name in
    /run/netns (linked there to use `ip netns exec`) is the container's."""
    kept: dict[int, int] = {}  # inode -> index in done
    done: list[parse.RawNamespace] = []
    order = {r.namespace.id: i for i, r in enumerate(raw)}
    for r in sorted(raw, key=lambda r: _RANK.get(r.namespace.kind, 9)):
        ns = r.namespace
        inode = inodes.get(ns.path if ns.kind != "host" else "/proc/self/ns/net", 0)
        if inode and inode in kept:  # the same namespace again: an alias of the one kept
            first = done[kept[inode]]
            named = replace(first.namespace, aliases=(*first.namespace.aliases, ns.id))
            done[kept[inode]] = replace(first, namespace=named)
            continue
        if inode:
            kept[inode] = len(done)
        done.append(r)
    return sorted(done, key=lambda r: order[r.namespace.id])


def _namespace(
    kind: str, name: str, path: str, body: str | Sequence[Any], labels: Mapping[str, str]
) -> parse.RawNamespace | None:
    if kind == "host":
        return parse.namespace_from("host", "host", "host", "", body)
    if kind == "netns":
        return parse.namespace_from(f"netns:{name}", "netns", name, path, body)
    label = labels.get(parse.canonical_path(path))
    if label is not None:  # a container's sandbox: named by the container
        return parse.namespace_from(label, "container", label.split(":", 1)[1], path, body)
    return parse.namespace_from(f"mounted:{path}", "mounted", path, path, body)


def _with_namespaces(
    containers: tuple[Container, ...], labels: Mapping[str, str], seen: set[str]
) -> tuple[Container, ...]:
    """Each container's namespace id, or "" when its sandbox was not among those read."""
    done = []
    for c in containers:
        label = labels.get(parse.canonical_path(c.namespace.removeprefix("sandbox:")), "")
        done.append(replace(c, namespace=label if label in seen else ""))
    return tuple(done)
