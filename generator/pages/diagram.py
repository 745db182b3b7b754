"""Draw a recipe's topology: one graph model, written as Mermaid (for GitHub) and as Graphviz DOT.

The topology dict comes from topology.render_topology: nodes, links (with "node:ifname" ends),
addresses and rules. Names come from recipe parameters, so every id we emit is generated
(n0, n1, ...) and every label is escaped: no parameter value can break the diagram's syntax.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from generator.errors import UserError


@dataclass(frozen=True)
class Node:
    key: str  # generated, safe as an id in both Mermaid and DOT
    name: str
    kind: str
    lines: tuple[str, ...]  # extra label lines: the addresses on this node
    host: str | None  # the machine it lives on, for multi-host labs


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    label: str


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def hosts(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for node in self.nodes:
            if node.host:
                seen.setdefault(node.host)
        return tuple(seen)


def _split_end(end: str) -> tuple[str, str]:
    name, _, ifname = str(end).partition(":")
    return name, ifname


class TopologyError(UserError):
    """A topology a diagram cannot be drawn from truthfully; the message names the link end."""


# The machine's own network namespace: the one node a link may name without declaring it.
HOST = "host"


def _resolve_end(end: object, order: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """(node identity, ifname) of a link end `[ROLE/]NODE:IFNAME`. A bare NODE names the one
    declared node of that name, on whatever host; one that names no node, or two, is an error:
    a drawing that guessed would show a node the lab does not have."""
    name, ifname = _split_end(str(end))
    if name in order:
        return name, ifname
    matches = [ident for ident, info in order.items() if info["name"] == name]
    if len(matches) == 1:
        return matches[0], ifname
    if name == HOST:
        order[HOST] = {"name": HOST, "kind": "host", "on": None}
        return HOST, ifname
    if matches:
        where = ", ".join(matches)
        raise TopologyError(f"topology: link end {end!s} could be {where}; write ROLE/{name}")
    raise TopologyError(
        f"topology: link end {end!s} names no node; declare {name} in [[nodes]] "
        "(a link may name the machine itself only as host)"
    )


def graph_from(topology: Mapping[str, Any], hosts: Sequence[str] = ()) -> Graph:
    """The nodes and edges a topology declares. A link end must name a declared node, or `host`
    (the machine's own namespace); anything else is a TopologyError, never a made-up node.

    A node's `on` is the machine it lives on when it names one of the recipe's host roles
    (`hosts`), drawn as a box around it; otherwise it names what the node is attached to, such
    as the Docker network "bridge", drawn as an edge. On a multi-host lab two nodes may share a
    name, so links and addresses name them `HOST/NAME`, and what crosses between hosts is drawn
    through each host's node (_across_hosts).
    """
    order: dict[str, dict[str, Any]] = {}  # identity -> name, kind, host
    attached: list[tuple[str, str]] = []

    def add(ident: str, kind: str) -> None:
        host, sep, name = ident.partition("/")
        if sep and host in hosts:
            order.setdefault(ident, {"name": name, "kind": kind, "on": host})
        else:
            order.setdefault(ident, {"name": ident, "kind": kind, "on": None})

    for node in topology.get("nodes", []):
        name, on = str(node["name"]), node.get("on")
        kind = str(node.get("kind", "host"))
        if on and str(on) in hosts:
            add(f"{on}/{name}", kind)
        else:
            add(name, kind)
            if on:
                attached.append((name, str(on)))
    for _, network in attached:
        add(network, "network")
    links = [
        (link, [_resolve_end(end, order) for end in link.get("ends", [])])
        for link in topology.get("links", [])
    ]
    links = _across_hosts(topology, links, order, attached) if hosts else links
    keys = {ident: f"n{i}" for i, ident in enumerate(order)}
    addresses: dict[str, list[str]] = {ident: [] for ident in order}
    for addr in topology.get("addresses", []):
        ident = str(addr["node"])
        if ident in addresses:
            addresses[ident].append(f"{addr.get('ifname', '')} {addr['address']}".strip())
    nodes = [
        Node(keys[ident], info["name"], info["kind"], tuple(addresses[ident]), info["on"])
        for ident, info in order.items()
    ]
    edges = [Edge(keys[name], keys[network], "attached") for name, network in attached]
    for index, (link, ends) in enumerate(links):
        kind = str(link.get("kind", "link"))
        if _DRAWN in link and len(ends) == 2:
            (a, _), (b, _) = ends
            edges.append(Edge(keys[a], keys[b], str(link[_DRAWN])))
        elif len(ends) == 2:
            (a, if_a), (b, if_b) = ends
            label = f"{if_a or order[a]['name']} {kind} {if_b or order[b]['name']}"
            edges.append(Edge(keys[a], keys[b], label))
        elif len(ends) > 2:
            # A segment shared by more than two ends (a hub, a VXLAN): draw it as its own node.
            hub = Node(f"s{index}", str(link.get("name", kind)), "segment", (), None)
            nodes.append(hub)
            edges += [Edge(keys[name], hub.key, ifname or kind) for name, ifname in ends]
    return Graph(tuple(nodes), tuple(edges))


def laid_out(graph: Graph) -> tuple[Edge, ...]:
    """The edges in the order the writers emit them. Both lay a `LR` graph out by which end of
    an edge comes first; the edges inside every second host's box are turned around, so two
    hosts mirror each other and what joins them (a tunnel between their host nodes) is drawn
    in the middle, short, instead of one box trailing off below the other."""
    mirrored = set(graph.hosts[1::2])
    host = {n.key: n.host for n in graph.nodes}
    return tuple(
        Edge(e.b, e.a, e.label) if host[e.a] == host[e.b] and host[e.a] in mirrored else e
        for e in graph.edges
    )


_Link = tuple[Mapping[str, Any], list[tuple[str, str]]]
_DRAWN = " drawn"  # the label of a link _across_hosts made: a key no topology writes


def _across_hosts(
    topology: Mapping[str, Any],
    links: list[_Link],
    order: dict[str, dict[str, Any]],
    attached: list[tuple[str, str]],
) -> list[_Link]:
    """The links of a multi-host lab as the hosts carry them (as generator/pages/observed.py
    draws a run): no link leaps from one host's box to another's.

    A link of two ends on two hosts (a VXLAN tunnel) goes from each end to its host's node and
    between the two host nodes, labelled `VXLAN VNI UDP PORT` when the link declares `vni` and
    `port`. A node on no host that nodes on several hosts link to (an overlay network) is drawn
    once on each of them, its part there, and the parts' hosts are joined by what the node
    declares as `carried` (how it crosses between hosts, e.g. "VXLAN UDP 4789")."""
    on = {ident: info["on"] for ident, info in order.items()}
    free = {str(n["name"]): n for n in topology.get("nodes", []) if not n.get("on")}
    reached: dict[str, set[str]] = {}
    for _, ends in links:
        idents = [e for e, _ in ends]
        for e in idents:
            if e in free and e not in {net for _, net in attached}:
                reached.setdefault(e, set()).update(on[o] for o in idents if on.get(o))
    spanning = {ident for ident, hosts in reached.items() if len(hosts) > 1}

    def host_node(host: str) -> str:
        order.setdefault(f"{host}/{HOST}", {"name": host, "kind": "host", "on": host})
        return f"{host}/{HOST}"

    found: list[_Link] = []
    joins: dict[tuple[str, str], Mapping[str, Any]] = {}
    for link, ends in links:
        kind = str(link.get("kind", "link"))
        hosts = [on.get(e) for e, _ in ends]
        if len(ends) == 2 and hosts[0] and hosts[1] and hosts[0] != hosts[1]:
            for (end, ifname), host in zip(ends, hosts, strict=True):
                label = {_DRAWN: f"{ifname} {kind}".strip()}
                found.append((label, [(end, ifname), (host_node(str(host)), "")]))
            label = {_DRAWN: kind.upper()}
            if "vni" in link and "port" in link:
                label[_DRAWN] += f" {link['vni']} UDP {link['port']}"
            joins.setdefault((hosts[0], hosts[1]), label)
            continue
        into = [e for e, _ in ends if e in spanning]
        host = next((h for h in hosts if h), None)
        if len(ends) == 2 and len(into) == 1 and host:
            ident = into[0]
            part = f"{host}/{ident}"
            if part not in order:
                order[part] = {**order[ident], "on": host}
                carried = str(free[ident].get("carried", ""))
                if carried:
                    found.append(({_DRAWN: carried}, [(part, ""), (host_node(host), "")]))
            ends = [((part, i) if e == ident else (e, i)) for e, i in ends]
        found.append((link, ends))
    for ident in sorted(spanning):  # drawn by its parts only
        del order[ident]
        parts = [info["on"] for key, info in order.items() if key.endswith(f"/{ident}")]
        carried = str(free[ident].get("carried", "")) or "carried"
        for i, one in enumerate(parts):
            for other in parts[i + 1 :]:
                joins.setdefault((one, other), {_DRAWN: carried})
    found += [(link, [(host_node(a), ""), (host_node(b), "")]) for (a, b), link in joins.items()]
    return found


# ---- Mermaid ------------------------------------------------------------------------------------

_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 ._:/@+=,()-]")
# Node shapes by kind; each pair wraps a quoted label.
_MERMAID_SHAPES = {
    "container": ("(", ")"),
    "bridge": ("{{", "}}"),
    "network": ("{{", "}}"),
    "docker-network": ("{{", "}}"),
    "segment": ("((", "))"),
}


def mermaid_text(text: str) -> str:
    """Label text as Mermaid entity codes wherever a character could end or alter the label."""
    return "".join(ch if _MERMAID_SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def _mermaid_label(parts: tuple[str, ...] | list[str]) -> str:
    return '"' + "<br/>".join(mermaid_text(p) for p in parts) + '"'


def to_mermaid(graph: Graph) -> str:
    """A `flowchart LR` that GitHub renders; multi-host labs get one subgraph per host."""
    lines = ["flowchart LR"]

    def node_line(node: Node, indent: str) -> str:
        left, right = _MERMAID_SHAPES.get(node.kind, ("[", "]"))
        title = f"{node.name} ({node.kind})"
        return f"{indent}{node.key}{left}{_mermaid_label([title, *node.lines])}{right}"

    for index, host in enumerate(graph.hosts):
        lines.append(f"  subgraph h{index}[{_mermaid_label([host])}]")
        lines += [node_line(n, "    ") for n in graph.nodes if n.host == host]
        lines.append("  end")
    lines += [node_line(n, "  ") for n in graph.nodes if not n.host]
    lines += [f"  {e.a} ---|{_mermaid_label([e.label])}| {e.b}" for e in laid_out(graph)]
    return "\n".join(lines) + "\n"


# ---- Graphviz -----------------------------------------------------------------------------------

_DOT_SHAPES = {
    "container": "component",
    "bridge": "hexagon",
    "network": "hexagon",
    "docker-network": "hexagon",
    "segment": "ellipse",
}


def _dot_string(text: str) -> str:
    """A DOT double-quoted string; label line breaks are written as \\n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(graph: Graph) -> str:
    lines = [
        "graph topology {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]

    def node_line(node: Node, indent: str) -> str:
        label = "\n".join([f"{node.name} ({node.kind})", *node.lines])
        shape = _DOT_SHAPES.get(node.kind, "box")
        return f"{indent}{node.key} [label={_dot_string(label)}, shape={shape}];"

    for index, host in enumerate(graph.hosts):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_string(host)};")
        lines += [node_line(n, "    ") for n in graph.nodes if n.host == host]
        lines.append("  }")
    lines += [node_line(n, "  ") for n in graph.nodes if not n.host]
    lines += [f"  {e.a} -- {e.b} [label={_dot_string(e.label)}];" for e in laid_out(graph)]
    lines.append("}")
    return "\n".join(lines) + "\n"


_SVG_START = re.compile(r"<svg\b")
_SVG_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)


def dot_available() -> bool:
    return shutil.which("dot") is not None


@lru_cache(maxsize=64)  # a site draws each page's graph for the page and for its .svg file
def to_svg(dot: str) -> str | None:
    """SVG drawn by Graphviz, ready to inline in HTML; None when `dot` is not installed.

    The XML prolog, DOCTYPE and comments are dropped: the prolog is invalid inside HTML, and the
    comments name the Graphviz version, which would make committed pages differ between machines.
    """
    if not dot_available():
        return None
    result = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"dot failed on a generated graph: {result.stderr.strip()}")
    match = _SVG_START.search(result.stdout)
    if match is None:
        raise RuntimeError("dot printed no <svg> element")
    return _SVG_COMMENT.sub("", result.stdout[match.start() :]).strip() + "\n"
