"""The topology diagrams: the Mermaid we emit keeps to a small grammar whatever the names are,
and Graphviz draws the DOT we emit."""

from __future__ import annotations

import re
from typing import Any

import pytest

from generator.pages import diagram
from generator.recipes.catalog import load, resolve
from generator.recipes.topology import render_topology

# Every line we emit is one of these; a label is quoted and holds no quote, pipe, bracket,
# brace, semicolon or raw '#', so nothing a parameter holds can end it early.
LABEL = r'"(?:[A-Za-z0-9 ._:/@+=,()-]|#[0-9]+;|<br/>)*"'
SHAPES = rf"(?:\[{LABEL}\]|\({LABEL}\)|\{{\{{{LABEL}\}}\}}|\(\({LABEL}\)\))"
GRAMMAR = [
    re.compile(r"flowchart LR"),
    re.compile(rf"  subgraph h[0-9]+\[{LABEL}\]"),
    re.compile(r"  end"),
    re.compile(rf" {{2,4}}[ns][0-9]+{SHAPES}"),
    re.compile(rf"  [ns][0-9]+ ---\|{LABEL}\| [ns][0-9]+"),
]


def assert_grammar(text: str) -> None:
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    for line in lines:
        assert any(rule.fullmatch(line) for rule in GRAMMAR), f"outside the grammar: {line!r}"
    opened = sum(1 for line in lines if line.startswith("  subgraph "))
    assert opened == sum(1 for line in lines if line == "  end")


def veth_topology() -> dict[str, Any]:
    recipe = load("veth-pair")
    return render_topology(recipe.directory, resolve(recipe, {}))


def test_veth_pair_diagram_names_both_ends_and_addresses() -> None:
    graph = diagram.graph_from(veth_topology())
    text = diagram.to_mermaid(graph)
    assert_grammar(text)
    assert 'n0["test1 (netns)<br/>veth-test1 192.168.88.1/24"]' in text
    assert 'n0 ---|"veth-test1 veth veth-test2"| n1' in text


HOSTILE = ['a"b', "x]y", "p|q", "end", "a;b", "#x", "<script>", "{{c}}", "a\nb", "é", "click n0"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_their_labels(name: str) -> None:
    topology = {
        "nodes": [{"name": name, "kind": "container", "on": name}, {"name": "b", "kind": "bridge"}],
        "links": [{"kind": "veth", "ends": [f"{name}:eth0", "b:veth0"]}],
        "addresses": [{"node": name, "ifname": "eth0", "address": name}],
    }
    assert_grammar(diagram.to_mermaid(diagram.graph_from(topology, hosts=[name])))
    assert_grammar(diagram.to_mermaid(diagram.graph_from(topology)))


def test_links_with_many_ends_become_a_segment() -> None:
    topology = {
        "nodes": [{"name": name, "kind": "netns"} for name in "abc"],
        "links": [{"kind": "vxlan", "ends": ["a:vx0", "b:vx0", "c:vx0"]}],
    }
    graph = diagram.graph_from(topology)
    assert [n.name for n in graph.nodes] == ["a", "b", "c", "vxlan"]
    assert len(graph.edges) == 3
    assert_grammar(diagram.to_mermaid(graph))


def test_mermaid_text_escapes_everything_that_could_end_a_label() -> None:
    assert diagram.mermaid_text('a"b|c;d#e') == "a#34;b#124;c#59;d#35;e"


@pytest.mark.skipif(not diagram.dot_available(), reason="graphviz (dot) is not installed")
def test_graphviz_draws_the_dot_with_hostile_names() -> None:
    topology = {
        "nodes": [
            {"name": 'q"uote\\', "kind": "netns", "on": "node1"},
            {"name": "b", "kind": "bridge"},
        ],
        "links": [{"kind": "veth", "ends": ['q"uote\\:eth0', "b:veth0"]}],
    }
    svg = diagram.to_svg(diagram.to_dot(diagram.graph_from(topology, hosts=["node1"])))
    assert svg is not None and svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<!--" not in svg and "q&quot;uote\\" in svg


def test_on_is_a_host_box_for_host_roles_and_an_attachment_otherwise() -> None:
    topology = {
        "nodes": [
            {"name": "web", "kind": "container", "on": "bridge"},
            {"name": "db", "kind": "container", "on": "docker-node1"},
        ]
    }
    graph = diagram.graph_from(topology, hosts=["docker-node1"])
    assert graph.hosts == ("docker-node1",)
    assert [(n.name, n.kind, n.host) for n in graph.nodes] == [
        ("web", "container", None),
        ("db", "container", "docker-node1"),
        ("bridge", "network", None),
    ]
    assert [(e.a, e.b, e.label) for e in graph.edges] == [("n0", "n2", "attached")]


def declared(name: str) -> diagram.Graph:
    recipe = load(name)
    return diagram.graph_from(render_topology(recipe.directory, resolve(recipe, {})), recipe.hosts)


def named(graph: diagram.Graph) -> set[tuple[str, str, str]]:
    by_key = {n.key: f"{n.host}/{n.name}" if n.host else n.name for n in graph.nodes}
    return {(by_key[e.a], by_key[e.b], e.label) for e in graph.edges}


def test_multi_host_nodes_of_one_name_stay_apart() -> None:
    graph = declared("vxlan")
    namespaces = [n for n in graph.nodes if n.kind == "netns"]
    assert [n.host for n in namespaces] == ["docker-node1", "docker-node2"]
    assert namespaces[0].name == namespaces[1].name
    assert all(n.lines for n in namespaces)  # each keeps its own address
    text = diagram.to_mermaid(graph)
    assert_grammar(text)
    assert text.count("subgraph") == 2


def test_a_declared_tunnel_between_hosts_goes_through_each_hosts_node() -> None:
    """No edge leaps from one host's box to the other's but the one between the hosts."""
    graph = declared("vxlan")
    assert [(n.host, n.name, n.kind) for n in graph.nodes if n.kind == "host"] == [
        ("docker-node1", "docker-node1", "host"),
        ("docker-node2", "docker-node2", "host"),
    ]
    assert named(graph) == {
        ("docker-node1/vx-ns", "docker-node1/docker-node1", "vx0 vxlan"),
        ("docker-node2/vx-ns", "docker-node2/docker-node2", "vx0 vxlan"),
        ("docker-node1/docker-node1", "docker-node2/docker-node2", "VXLAN 42 UDP 4789"),
    }


def test_the_second_hosts_edges_are_turned_around_so_the_boxes_mirror() -> None:
    graph = declared("vxlan")
    text = diagram.to_mermaid(graph)
    first, second = (n.key for n in graph.nodes if n.kind == "host")
    assert f'  {first} ---|"VXLAN 42 UDP 4789"| {second}' in text
    assert f'  {second} ---|"vx0 vxlan"| ' in text  # the host node first, inside the second box
    dot = diagram.to_dot(graph)
    assert f"  {second} -- " in dot and f"-- {second} [" in dot


def test_a_link_end_that_names_no_node_is_an_error_not_a_host() -> None:
    topology = {"nodes": [{"name": "a", "kind": "netns"}], "links": [{"ends": ["a:x", "b:y"]}]}
    with pytest.raises(diagram.TopologyError, match="link end b:y names no node"):
        diagram.graph_from(topology)


def test_a_bare_name_on_two_hosts_must_say_which() -> None:
    topology = {
        "nodes": [{"name": "c", "kind": "container", "on": h} for h in ("n1", "n2")],
        "links": [{"ends": ["c:eth0", "n1/c:eth1"]}],
    }
    with pytest.raises(diagram.TopologyError, match="could be n1/c, n2/c; write ROLE/c"):
        diagram.graph_from(topology, ("n1", "n2"))


def test_the_machine_itself_may_be_named_host_without_a_declaration() -> None:
    topology = {"nodes": [{"name": "a", "kind": "netns"}], "links": [{"ends": ["host:v0", "a:v1"]}]}
    graph = diagram.graph_from(topology)
    assert [(n.name, n.kind) for n in graph.nodes] == [("a", "netns"), ("host", "host")]


def test_swarm_overlay_draws_the_overlay_on_each_host_carried_between_them() -> None:
    graph = declared("swarm-overlay")
    assert {(n.host, n.name, n.kind) for n in graph.nodes} == {
        ("docker-node1", "test1", "container"),
        ("docker-node2", "test2", "container"),
        ("docker-node1", "my-overlay", "docker-network"),
        ("docker-node2", "my-overlay", "docker-network"),
        ("docker-node1", "docker-node1", "host"),
        ("docker-node2", "docker-node2", "host"),
    }
    assert named(graph) == {
        ("docker-node1/test1", "docker-node1/my-overlay", "eth0 overlay my-overlay"),
        ("docker-node2/test2", "docker-node2/my-overlay", "eth0 overlay my-overlay"),
        ("docker-node1/my-overlay", "docker-node1/docker-node1", "VXLAN UDP 4789"),
        ("docker-node2/my-overlay", "docker-node2/docker-node2", "VXLAN UDP 4789"),
        ("docker-node1/docker-node1", "docker-node2/docker-node2", "VXLAN UDP 4789"),
    }
    assert_grammar(diagram.to_mermaid(graph))


def test_a_network_on_one_host_only_is_not_split() -> None:
    topology = {
        "nodes": [
            {"name": "a", "kind": "container", "on": "n1"},
            {"name": "b", "kind": "container", "on": "n1"},
            {"name": "net", "kind": "docker-network"},
        ],
        "links": [{"ends": ["a:eth0", "net"]}, {"ends": ["b:eth0", "net"]}],
    }
    graph = diagram.graph_from(topology, ("n1", "n2"))
    assert [(n.host, n.name) for n in graph.nodes] == [("n1", "a"), ("n1", "b"), (None, "net")]
