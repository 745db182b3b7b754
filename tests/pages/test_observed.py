"""Diagrams drawn from the observed state, and the declared topology checked against it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from generator.compare.declared import check_declared
from generator.compare.observed import observe
from generator.pages import diagram, model
from generator.pages import html as docs_html
from generator.pages import markdown as docs_markdown
from generator.pages.observed import CAPTION, describe, graph_from_snapshots
from generator.recipes.catalog import load, load_all, resolve
from generator.recipes.topology import render_topology
from generator.transcript import read
from generator.transcript.state import SwarmNode
from tests.pages import observed_labs as labs
from tests.pages.test_diagram import assert_grammar

ROOT = Path(__file__).resolve().parents[2]


def declared(name: str, **params: str) -> dict[str, Any]:
    recipe = load(name)
    return render_topology(recipe.directory, resolve(recipe, params))


def mermaid(records: list[Any]) -> str:
    graph = graph_from_snapshots(records)
    assert graph is not None
    text = diagram.to_mermaid(graph)
    assert_grammar(text)
    return text


def named_edges(graph: diagram.Graph) -> set[tuple[str, str, str]]:
    def name(key: str) -> str:
        node = next(n for n in graph.nodes if n.key == key)
        return f"{node.host}/{node.name}" if node.host else node.name

    return {(name(e.a), name(e.b), e.label) for e in graph.edges}


def golden(name: str) -> list[Any]:
    return list(read(ROOT / "transcripts" / f"{name}.transcript").snapshots)


def boxes_crossed(graph: diagram.Graph) -> set[tuple[str, str, str]]:
    """The edges between two nodes of different hosts, as named_edges names them."""
    host = {n.key: n.host for n in graph.nodes}
    crossing = diagram.Graph(graph.nodes, tuple(e for e in graph.edges if host[e.a] != host[e.b]))
    return named_edges(crossing)


def test_swarm_overlay_is_realized_on_each_host_and_carried_between_their_nics_in_vxlan() -> None:
    """Issue 15: the golden run's overlay was one node floating between the hosts, each eth0
    wired straight to it, with no node-network address and no VXLAN anywhere."""
    graph = graph_from_snapshots(golden("swarm-overlay"))
    assert graph is not None
    assert graph.hosts == ("docker-node1", "docker-node2")
    by_name = {(n.host, n.name): n for n in graph.nodes}
    # Each host's node carries its address on the node network (the manager lists both).
    assert by_name["docker-node1", "docker-node1"].kind == "host"
    assert by_name["docker-node1", "docker-node1"].lines == ("eth0 192.168.205.10/24",)
    assert by_name["docker-node2", "docker-node2"].lines == ("eth0 192.168.205.11/24",)
    # The overlay is drawn once on each host, none between them.
    overlays = sorted((n.host or "", n.kind) for n in graph.nodes if n.name == "my-overlay")
    assert overlays == [("docker-node1", "docker-network"), ("docker-node2", "docker-network")]
    edges = named_edges(graph)
    for host, container, ip in (
        ("docker-node1", "test1", "10.0.1.2"),
        ("docker-node2", "test2", "10.0.1.4"),
    ):
        assert (f"{host}/{container}", f"{host}/my-overlay", f"eth0 {ip}/24") in edges
        assert (f"{host}/my-overlay", f"{host}/{host}", "vxlan0 VNI 4097") in edges
        # Each host's docker_gwbridge is its own: wired to that host by the host's address.
        assert (
            f"{host}/docker_gwbridge",
            f"{host}/{host}",
            "docker_gwbridge 172.19.0.1/16",
        ) in edges
        assert "scope local" in by_name[host, "docker_gwbridge"].lines
    # The one thing between the boxes: the hosts, joined by the overlay's VXLAN.
    assert boxes_crossed(graph) == {
        ("docker-node1/docker-node1", "docker-node2/docker-node2", "VXLAN 4097 UDP 4789")
    }
    # Swarm's own: the ingress network (VNI 4096), its sandboxes, the exited hand-over container.
    names = {n.name for n in graph.nodes}
    assert "ingress" not in names and "swarm-token" not in names
    assert not any("4096" in e.label for e in graph.edges)
    text = diagram.to_mermaid(graph)
    assert_grammar(text)
    assert text.count("subgraph") == 2
    outside = text.split("  end\n")[-1]
    assert "(docker-network)" not in outside and "(host)" not in outside


def test_an_overlay_without_a_managers_list_is_carried_by_the_hosts_one_plain_address() -> None:
    """The hand-made snapshots list no swarm nodes: the host's one address on a plain
    interface (neither a bridge nor the loopback) is its node-network address."""
    graph = graph_from_snapshots(labs.swarm_overlay())
    assert graph is not None
    hosts = [(n.host, n.lines) for n in graph.nodes if n.kind == "host"]
    assert hosts == [
        ("docker-node1", ("eth1 192.168.205.10/24",)),
        ("docker-node2", ("eth1 192.168.205.10/24",)),
    ]
    assert boxes_crossed(graph) == {
        ("docker-node1/docker-node1", "docker-node2/docker-node2", "VXLAN 4097 UDP 4789")
    }
    assert ("docker-node2/test2", "docker-node2/my-overlay", "eth0 10.0.1.4/24") in named_edges(
        graph
    )


def test_the_swarm_address_picks_the_interface_among_several() -> None:
    """A second plain address leaves the fallback no single answer; the manager's list of
    swarm nodes names the address Docker's VXLAN leaves from."""
    first, second = labs.swarm_overlay()
    nodes = tuple(
        SwarmNode(host, role, "ready", "active", address)
        for host, role, address in (
            ("docker-node1", "manager", "192.168.205.10"),
            ("docker-node2", "worker", "192.168.205.11"),
        )
    )

    def with_nic(record: Any, address: str, swarm: tuple[SwarmNode, ...]) -> Any:
        host, *rest = record.state.namespaces
        extra = (labs.inet("eth0", "10.9.0.5/24"), labs.inet("eth1", address))
        kept = tuple(a for a in host.addresses if a.ifname != "eth1")
        host = dataclasses.replace(host, addresses=(*kept, *extra))
        state = dataclasses.replace(record.state, namespaces=(host, *rest), swarm_nodes=swarm)
        return dataclasses.replace(record, state=state)

    records = [
        with_nic(first, "192.168.205.10/24", nodes),
        with_nic(second, "192.168.205.11/24", ()),
    ]
    graph = graph_from_snapshots(records)
    assert graph is not None
    assert [(n.host, n.lines) for n in graph.nodes if n.kind == "host"] == [
        ("docker-node1", ("eth1 192.168.205.10/24",)),
        ("docker-node2", ("eth1 192.168.205.11/24",)),
    ]


def test_swarm_overlay_containers_sit_inside_their_host_box() -> None:
    text = mermaid(labs.swarm_overlay())
    first, second = text.split("  subgraph ")[1:3]
    assert "docker-node1" in first.splitlines()[0] and "test1 (container)" in first
    assert "test2" not in first
    assert "docker-node2" in second.splitlines()[0] and "test2 (container)" in second


def test_vxlan_goes_from_each_namespace_through_its_hosts_nic_to_the_other_host() -> None:
    graph = graph_from_snapshots(labs.vxlan())
    assert graph is not None
    assert [(n.host, n.name, n.kind, n.lines) for n in graph.nodes] == [
        ("docker-node1", "vx-ns", "netns", ("vx0 10.42.0.1/24",)),
        ("docker-node1", "docker-node1", "host", ("eth1 192.168.205.10/24",)),
        ("docker-node2", "vx-ns", "netns", ("vx0 10.42.0.2/24",)),
        ("docker-node2", "docker-node2", "host", ("eth1 192.168.205.11/24",)),
    ]
    assert named_edges(graph) == {
        ("docker-node1/vx-ns", "docker-node1/docker-node1", "vx0 VNI 42"),
        ("docker-node2/vx-ns", "docker-node2/docker-node2", "vx0 VNI 42"),
        ("docker-node1/docker-node1", "docker-node2/docker-node2", "VXLAN 42 UDP 4789"),
    }
    text = mermaid(labs.vxlan())
    assert text.count("subgraph") == 2
    assert 'n1 ---|"VXLAN 42 UDP 4789"| n3' in text
    # The second host's edges are turned around, so the two boxes mirror each other.
    assert 'n3 ---|"vx0 VNI 42"| n2' in text


def test_the_golden_vxlan_run_shows_the_node_network_addresses() -> None:
    graph = graph_from_snapshots(golden("vxlan"))
    assert graph is not None
    assert [n.lines for n in graph.nodes if n.kind == "host"] == [
        ("eth0 192.168.205.10/24",),
        ("eth0 192.168.205.11/24",),
    ]
    assert boxes_crossed(graph) == {
        ("docker-node1/docker-node1", "docker-node2/docker-node2", "VXLAN 42 UDP 4789")
    }


def test_a_vxlan_whose_remote_is_not_the_other_host_does_not_join_them() -> None:
    one, two = labs.vxlan()
    ns = two.state.namespaces[1]
    (lo, vx) = ns.links
    assert vx.vxlan is not None
    moved = dataclasses.replace(vx, vxlan=dataclasses.replace(vx.vxlan, remote="192.0.2.9"))
    state = dataclasses.replace(
        two.state,
        namespaces=(two.state.namespaces[0], dataclasses.replace(ns, links=(lo, moved))),
    )
    graph = graph_from_snapshots([one, dataclasses.replace(two, state=state)])
    assert graph is not None
    assert not any("docker-node2" in a and "docker-node1" in b for a, b, _ in boxes_crossed(graph))


def test_a_vxlan_end_without_its_partner_joins_a_segment() -> None:
    graph = graph_from_snapshots(labs.vxlan()[:1])
    assert graph is not None
    assert [(n.name, n.kind) for n in graph.nodes] == [("vx-ns", "netns"), ("vxlan 42", "segment")]
    assert named_edges(graph) == {("vx-ns", "vxlan 42", "vx0 remote 192.168.205.11")}


def test_a_veth_pair_is_one_edge_named_by_both_interfaces() -> None:
    text = mermaid(labs.veth_pair())
    assert 'n0["test1 (netns)<br/>veth-test1 192.168.88.1/24"]' in text
    assert 'n1["test2 (netns)<br/>veth-test2 192.168.88.2/24"]' in text
    assert text.count("---") == 1 and "veth-test1 veth veth-test2" in text
    assert "(host)" not in text


def test_containers_on_docker0_are_on_the_preexisting_bridge_network() -> None:
    graph = graph_from_snapshots(labs.docker_bridge())
    assert graph is not None
    assert [(n.name, n.kind) for n in graph.nodes] == [
        ("test1", "container"),
        ("test2", "container"),
        ("bridge", "docker-network"),
    ]
    assert named_edges(graph) == {
        ("test1", "bridge", "eth0 172.17.0.2/16"),
        ("test2", "bridge", "eth0 172.17.0.3/16"),
    }
    assert "Linux bridge docker0" in graph.nodes[2].lines
    assert not any("veth" in line for line in describe(graph))  # random names stay off


def test_a_bridge_the_lab_made_has_its_ports_as_edges_and_its_address() -> None:
    graph = graph_from_snapshots(labs.linux_bridge())
    assert graph is not None
    assert [(n.name, n.kind, n.lines) for n in graph.nodes] == [
        ("test1", "netns", ("eth0 172.30.0.2/24",)),
        ("test2", "netns", ("eth0 172.30.0.3/24",)),
        ("br0", "bridge", ("br0 172.30.0.1/24",)),
    ]
    assert {(a, b) for a, b, _ in named_edges(graph)} == {("br0", "test1"), ("br0", "test2")}
    assert {label for _, _, label in named_edges(graph)} == {
        "veth-test1 veth eth0",
        "veth-test2 veth eth0",
    }


def test_the_hosts_own_namespace_is_drawn_only_for_what_the_lab_made_there() -> None:
    graph = graph_from_snapshots(labs.bridge_nat())
    assert graph is not None
    hosts = [n for n in graph.nodes if n.kind == "host"]
    assert [(n.name, n.lines) for n in hosts] == [("host", ("veth-uplink 203.0.113.1/24",))]
    assert ("host", "outside", "veth-uplink veth eth0") in named_edges(graph)
    assert ("test1", "bridge", "eth0 172.17.0.2/16") in named_edges(graph)


@pytest.mark.parametrize("lab", [labs.veth_pair, labs.docker_bridge, labs.vxlan, labs.bridge_nat])
def test_without_a_snapshot_before_the_lab_the_hosts_own_things_stay_off(lab: Any) -> None:
    """No `preexisting`: the host's devices, loopbacks and Docker's defaults are not the lab's."""
    records = lab()
    bare = [
        dataclasses.replace(r, state=dataclasses.replace(r.state, preexisting=())) for r in records
    ]
    assert graph_from_snapshots(bare) == graph_from_snapshots(records)


@pytest.mark.parametrize("lab", [labs.veth_pair, labs.linux_bridge, labs.bridge_nat])
def test_the_order_the_snapshot_lists_things_in_changes_nothing(lab: Any) -> None:
    records = lab()
    flipped = [
        dataclasses.replace(
            r,
            state=dataclasses.replace(
                r.state,
                namespaces=tuple(
                    dataclasses.replace(ns, links=ns.links[::-1]) for ns in r.state.namespaces[::-1]
                ),
            ),
        )
        for r in records
    ]
    assert graph_from_snapshots(flipped) == graph_from_snapshots(records)


def test_the_last_end_of_main_snapshot_of_each_host_is_drawn() -> None:
    early = dataclasses.replace(labs.veth_pair()[0], label="before", index=1)
    late = dataclasses.replace(labs.veth_pair("a0", "b0")[0], index=2)
    observed = observe([late, early])
    assert observed is not None
    assert {e.label for e in observed.edges} == {"a0 veth b0"}


def test_no_snapshots_no_observed_graph() -> None:
    assert observe([]) is None and graph_from_snapshots([]) is None


HOSTILE = ['a"b', "x]y", "p|q", "end", "a;b", "#x", "<script>", "{{c}}", "a\nb", "click n0"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_from_snapshots_stay_inside_their_labels(name: str) -> None:
    (first,) = labs.veth_pair(name, "b")
    host, ns1, ns2 = first.state.namespaces
    state = dataclasses.replace(
        first.state, namespaces=(host, dataclasses.replace(ns1, name=name), ns2)
    )
    assert_grammar(mermaid([dataclasses.replace(first, state=state)]))


# ---- the declared topology against the observation ---------------------------------------------


@pytest.mark.parametrize(
    ("recipe", "records"),
    [
        ("swarm-overlay", labs.swarm_overlay),
        ("vxlan", labs.vxlan),
        ("veth-pair", labs.veth_pair),
        ("docker-bridge", labs.docker_bridge),
        ("linux-bridge", labs.linux_bridge),
        ("bridge-nat", labs.bridge_nat),
    ],
)
def test_a_declaration_the_run_bears_out_has_no_mismatch(recipe: str, records: Any) -> None:
    assert check_declared(declared(recipe), records(), load(recipe).hosts) == []


def test_a_declared_link_the_run_did_not_make_is_reported() -> None:
    records = labs.veth_pair("veth1", "veth9")
    topology = declared("veth-pair", if1="veth1", if2="veth2")
    assert check_declared(topology, records) == [
        "declared link test1:veth1 - test2:veth2 is not observed",
        "declared address 192.168.88.2/24 on test2:veth2 is not observed",
    ]


def test_a_declared_node_the_run_did_not_make_is_reported() -> None:
    topology = declared("swarm-overlay", c2="other")
    lines = check_declared(topology, labs.swarm_overlay())
    assert "declared node docker-node2/other is not observed" in lines
    assert "declared link docker-node2/other:eth0 - my-overlay is not observed" in lines


def test_a_container_on_the_wrong_network_is_reported() -> None:
    topology = {
        "nodes": [{"name": "test1", "kind": "container", "on": "my-bridge"}],
    }
    assert check_declared(topology, labs.docker_bridge()) == [
        "declared node test1 on my-bridge is not observed attached to it"
    ]


def test_an_unknown_declared_link_end_is_an_error_line_not_a_node() -> None:
    topology = {
        "nodes": [{"name": "test1", "kind": "netns"}],
        "links": [{"ends": ["test1:a", "b:y"]}],
    }
    assert check_declared(topology, labs.veth_pair()) == [
        "topology: link end b:y names no declared node"
    ]
    with pytest.raises(diagram.TopologyError, match="link end b:y names no node"):
        diagram.graph_from(topology)


def test_nothing_observed_nothing_to_check() -> None:
    assert check_declared(declared("veth-pair"), []) == []


def test_every_declared_topology_still_draws() -> None:
    """All eleven, and a host node only where a link names the machine itself (bridge-nat) or
    where a link crosses between hosts."""
    with_host = []
    for recipe in load_all():
        topology = render_topology(recipe.directory, resolve(recipe, {}))
        text = diagram.to_mermaid(diagram.graph_from(topology, recipe.hosts))
        assert_grammar(text)
        if "(host)" in text:
            with_host.append(recipe.name)
    assert len(load_all()) == 11
    assert with_host == ["bridge-nat", "swarm-overlay", "vxlan"]  # multi-host: each host's node


# ---- pages --------------------------------------------------------------------------------------


def page_of(name: str, records: list[Any]) -> model.LabPage:
    transcript = dataclasses.replace(
        read(ROOT / "transcripts" / f"{name}.transcript"), snapshots=tuple(records)
    )
    return model.build(transcript)


def test_a_page_with_snapshots_draws_from_observation_and_says_so() -> None:
    page = page_of("swarm-overlay", labs.swarm_overlay())
    assert page.observed is not None and page.graph is page.observed
    assert page.topology_warnings == ()
    text = docs_markdown.render(page)
    assert CAPTION in text
    assert "test1 (container)" in text and "docker-node1 (host)" in text
    assert "does not match" not in text
    assert CAPTION in docs_html.render(page)


def test_a_page_shows_the_mismatches_beside_the_diagram() -> None:
    page = page_of("veth-pair", labs.veth_pair("veth1", "veth9"))
    assert page.topology_warnings
    text = docs_markdown.render(page)
    section = text.split("## Topology")[1].split("## Steps")[0]
    assert "> **The declared topology does not match what the run observed:**" in section
    assert "is not observed" in section
    assert "is not observed" in docs_html.render(page)


def test_a_page_without_snapshots_draws_the_declared_topology_as_before() -> None:
    page = page_of("vxlan", [])
    assert page.observed is None and page.topology_warnings == ()
    text = docs_markdown.render(page)
    assert CAPTION not in text and "vx-ns (netns)" in text


def test_a_page_without_graphviz_lists_the_observed_graph_in_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(diagram, "to_svg", lambda dot: None)
    page = page_of("vxlan", labs.vxlan())
    text = docs_html.render(page)
    assert (
        "<li>link     docker-node1/docker-node1 &lt;-&gt; docker-node2/docker-node2 "
        "(VXLAN 42 UDP 4789)</li>" in text
    )
