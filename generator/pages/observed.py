"""The topology diagram drawn from observation: the graph of generator/compare/observed.py as
diagram.py's model, so Mermaid and DOT draw it with generated ids and escaped labels, as they
draw a declared topology."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from generator.compare.observed import ObservedGraph, observe
from generator.pages.diagram import Edge, Graph, Node
from generator.transcript.records import SnapshotRecord

CAPTION = "Drawn from the state observed at the end of the run."


def to_graph(observed: ObservedGraph) -> Graph:
    """Nodes keyed n0, n1, ... in the observed order; the names only ever appear in labels."""
    keys = {node.ident: f"n{i}" for i, node in enumerate(observed.nodes)}
    nodes = tuple(Node(keys[n.ident], n.name, n.kind, n.lines, n.host) for n in observed.nodes)
    edges = tuple(
        Edge(keys[e.a], keys[e.b], e.label) for e in observed.edges if e.a in keys and e.b in keys
    )
    return Graph(nodes, edges)


def graph_from_snapshots(snapshots: Sequence[SnapshotRecord]) -> Graph | None:
    """The diagram of what a run observed; None when it recorded no snapshot (version 1)."""
    observed = observe(snapshots)
    if observed is None or not observed.nodes:
        return None
    return to_graph(observed)


def describe(graph: Graph) -> Iterator[str]:
    """The graph in words, one line per node and edge, for a page without Graphviz."""
    names = {}
    for node in graph.nodes:
        where = f"{node.host}/" if node.host else ""
        names[node.key] = f"{where}{node.name}"
        extra = f": {', '.join(node.lines)}" if node.lines else ""
        yield f"node     {names[node.key]} ({node.kind}){extra}"
    for edge in graph.edges:
        yield f"link     {names[edge.a]} <-> {names[edge.b]} ({edge.label})"
