"""What a lab owns, and a refusal to start it over names that already exist.

The ownership rule: a lab creates, and its teardown removes, only the names its topology
declares as its own. A topology node is the lab's own unless it says `external = true` (docker0
in the Docker labs: used, never made); `[[creates]]` entries name what it makes without drawing
it (a helper container, the network Swarm makes on `docker swarm init`). Two checks follow:

- before rendering, `ownership_problem` refuses an owned name that can never be the lab's: the
  loopback, docker0, Docker's built-in networks (bridge, host, none), or one name made twice;
- before the teardown trap is armed, the name guard (`shell_lines`) stops the script when an
  owned name exists already, since the teardown removes its names unconditionally. The rendered
  script runs it first; `recipe run` runs the same lines before any step.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Names no lab may create or remove, whatever the machine holds: each is the machine's or
# Docker's, and a teardown of one would cut the host or Docker off.
RESERVED: dict[str, dict[str, str]] = {
    "link": {
        "lo": "the loopback interface",
        "eth0": "the usual name of the machine's own uplink",
        "docker0": "Docker's default bridge",
        "docker_gwbridge": "the bridge Docker Swarm keeps",
    },
    "network": {
        "bridge": "Docker's default network",
        "host": "Docker's built-in host network",
        "none": "Docker's built-in none network",
    },
}
# Interface names Docker makes on its own: br-<network id> and veth<7 hex digits>.
_DOCKER_LINKS = re.compile(r"br-[0-9a-f]{12}|veth[0-9a-f]{7}")
_WHAT = {
    "netns": "network namespace",
    "link": "interface",
    "container": "container",
    "network": "Docker network",
    "swarm": "Docker Swarm",
}


@dataclass(frozen=True)
class Claim:
    """A name the lab will create: kind is netns, link, container, network or swarm. `on` is
    the host role it is made on, in a multi-host lab ("" for the one host)."""

    kind: str
    name: str
    on: str = ""

    def __str__(self) -> str:
        return f"{_WHAT.get(self.kind, self.kind)} {self.name}"


def claims(topology: Mapping[str, Any]) -> list[Claim]:
    """What the lab creates, in the order a reader meets it, without duplicates."""
    found: dict[Claim, None] = {}
    for claim in _all_claims(topology):
        found.setdefault(claim, None)
    return list(found)


def _all_claims(topology: Mapping[str, Any]) -> list[Claim]:
    return _from_nodes(topology) + _from_creates(topology) + _from_links(topology)


_NODE_KINDS = {
    "netns": "netns",
    "container": "container",
    "docker-network": "network",
    "bridge": "link",
}


def _from_nodes(topology: Mapping[str, Any]) -> list[Claim]:
    return [
        Claim(_NODE_KINDS[node["kind"]], str(node["name"]), str(node.get("on", "")))
        for node in topology.get("nodes", [])
        if node.get("kind") in _NODE_KINDS and not node.get("external", False)
    ]


def _from_creates(topology: Mapping[str, Any]) -> list[Claim]:
    """Names the lab makes that its diagram does not draw."""
    return [
        Claim(str(item["kind"]), str(item["name"]), str(item.get("on", "")))
        for item in topology.get("creates", [])
    ]


def _from_links(topology: Mapping[str, Any]) -> list[Claim]:
    """Veth ends that exist in the host's namespace at some point. With one end on the host or a
    bridge, only that end does (the other is made straight inside its namespace); with both
    ends in namespaces, the pair is made on the host and then moved, so both names must be free.
    A VXLAN device is made on its host and then moved, like the second case."""
    found: list[Claim] = []
    for link in topology.get("links", []):
        named = _named_ends(topology, link)
        if link.get("kind") == "vxlan":
            found += [Claim("link", ifname, role) for role, _, ifname in named]
            continue
        on_host = [(r, n, i) for r, n, i in named if n == "host" or _kind(topology, n) == "bridge"]
        found += [Claim("link", ifname, role) for role, _, ifname in (on_host or named)]
    return found


def _kind(topology: Mapping[str, Any], name: str) -> Any:
    return next((n.get("kind") for n in topology.get("nodes", []) if n["name"] == name), None)


def _named_ends(topology: Mapping[str, Any], link: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(host role, node, ifname) of each `[ROLE/]NODE:IFNAME` end the lab names itself: not
    the ends of a container, which Docker makes and names."""
    if link.get("kind") not in {"veth", "vxlan"}:
        return []
    ends: list[tuple[str, str, str]] = []
    for end in link.get("ends", []):
        node, sep, ifname = str(end).partition(":")
        role, slash, bare = node.rpartition("/")
        if sep and ifname:
            ends.append((role if slash else "", bare, ifname))
    if any(_kind(topology, node) == "container" for _, node, _ in ends):
        return []  # Docker makes and names those ends itself
    return ends


def ownership_problem(topology: Mapping[str, Any]) -> tuple[Claim, str] | None:
    """The first owned name that no lab may own, and why: reserved, or made twice."""
    seen: set[tuple[str, str, str]] = set()
    for claim in _all_claims(topology):
        why = reserved(claim)
        if why:
            return claim, f"is {why}: a lab may neither create nor remove it"
        key = (claim.kind, claim.name, claim.on)
        if key in seen:
            return claim, "is made twice by this lab: each one needs a name of its own"
        seen.add(key)
    for link in topology.get("links", []):
        for _, _, ifname in _named_ends(topology, link):
            if ifname == "lo":  # every namespace has its own lo already
                return Claim("link", ifname), f"is {RESERVED['link']['lo']}: a lab cannot create it"
    return None


def reserved(claim: Claim) -> str:
    """Why a name can never be a lab's own, or "" when it may be."""
    why = RESERVED.get(claim.kind, {}).get(claim.name, "")
    if not why and claim.kind == "link" and _DOCKER_LINKS.fullmatch(claim.name):
        why = "a name Docker gives its own interfaces"
    return why


_TEST = {
    "netns": "[ ! -e /run/netns/{q} ]",
    "link": "! ip link show dev {q} >/dev/null 2>&1",
    "container": "! {sudo}docker container inspect {q} >/dev/null 2>&1",
    "network": "! {sudo}docker network inspect {q} >/dev/null 2>&1",
    # A swarm has no name to test: the host must be in none, since the teardown leaves it.
    "swarm": "! {sudo}docker info --format '{{{{.Swarm.LocalNodeState}}}}' 2>/dev/null"
    " | grep -qxE 'active|pending|locked|error'",
}
_TAKEN = "{what} already exists; remove it or choose another name with --set"
_IN_SWARM = (
    "this host is in a Docker Swarm already, which the teardown would leave; "
    "run docker swarm leave there first, or use another host"
)


def shell_lines(found: list[Claim], sudo: str = "") -> Iterator[str]:
    """One line per name: `TEST || taken MESSAGE` (the function `taken` comes first)."""
    if not found:
        return
    yield 'taken() { echo "lab.sh: $1" >&2; exit 2; }'
    for claim in found:
        message = _IN_SWARM if claim.kind == "swarm" else _TAKEN.format(what=claim)
        test = _TEST[claim.kind].format(q=shlex.quote(claim.name), sudo=sudo)
        yield f"{test} || taken {shlex.quote(message)}"


def by_role(found: list[Claim]) -> dict[str, list[Claim]]:
    """The claims of each host role, in the order the roles first appear."""
    roles: dict[str, list[Claim]] = {}
    for claim in found:
        roles.setdefault(claim.on, []).append(claim)
    return roles
