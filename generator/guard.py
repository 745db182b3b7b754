"""Refuse to start a lab over names that already exist.

A teardown removes its names unconditionally, so a lab started over someone else's namespace,
interface, container or network would delete it on the way out. The rendered script checks
first, before its teardown trap is armed; `recipe run` runs the same lines before any step.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Bridges the lab uses but did not make: Docker's own.
_PREEXISTING = {"docker0"}


@dataclass(frozen=True)
class Claim:
    """A name the lab will create: kind is netns, link, container or network."""

    kind: str
    name: str


def claims(topology: Mapping[str, Any]) -> list[Claim]:
    """What the lab creates, in the order a reader meets it, without duplicates."""
    found: dict[Claim, None] = {}
    for claim in _from_nodes(topology) + _from_links(topology):
        found.setdefault(claim, None)
    return list(found)


def _from_nodes(topology: Mapping[str, Any]) -> list[Claim]:
    kinds = {"netns": "netns", "container": "container", "docker-network": "network", "bridge": "link"}
    return [
        Claim(kinds[node["kind"]], node["name"])
        for node in topology.get("nodes", [])
        if node.get("kind") in kinds and node["name"] not in _PREEXISTING
    ]


def _from_links(topology: Mapping[str, Any]) -> list[Claim]:
    """Veth ends that exist in the host's namespace at some point. With one end on the host or a
    bridge, only that end does (the other is made straight inside its namespace); with both
    ends in namespaces, the pair is made on the host and then moved, so both names must be free."""
    node_kind = {node["name"]: node.get("kind") for node in topology.get("nodes", [])}
    found: list[Claim] = []
    for link in topology.get("links", []):
        if link.get("kind") != "veth":
            continue
        ends = [str(end).partition(":") for end in link.get("ends", [])]
        named = [(node, ifname) for node, sep, ifname in ends if sep and ifname]
        if any(node_kind.get(node) == "container" for node, _ in named):
            continue  # Docker makes and names those ends itself
        on_host = [(n, i) for n, i in named if n == "host" or node_kind.get(n) == "bridge"]
        found += [Claim("link", ifname) for _, ifname in (on_host or named)]
    return found


_TEST = {
    "netns": ("[ ! -e /run/netns/{q} ]", "network namespace"),
    "link": ("! ip link show dev {q} >/dev/null 2>&1", "interface"),
    "container": ("! {sudo}docker container inspect {q} >/dev/null 2>&1", "container"),
    "network": ("! {sudo}docker network inspect {q} >/dev/null 2>&1", "Docker network"),
}


def shell_lines(found: list[Claim], sudo: str = "") -> Iterator[str]:
    """One line per name: `TEST || taken WHAT` (the function `taken` comes first)."""
    if not found:
        return
    yield 'taken() { echo "lab.sh: $1 already exists; remove it or choose another name with --set" >&2; exit 2; }'
    for claim in found:
        test, what = _TEST[claim.kind]
        quoted = shlex.quote(claim.name)
        yield f"{test.format(q=quoted, sudo=sudo)} || taken {shlex.quote(f'{what} {claim.name}')}"
