"""Volatile values named by what they are in the observed graph: the two false drifts a new
user met (a netnsid counter, veth placeholders numbered in the order of random names) are gone,
and a value the snapshot does not know still falls back to order of appearance."""

from __future__ import annotations

from generator.compare.runs import compare
from generator.transcript import StepRecord
from generator.transcript.expectation import Expectation
from generator.transcript.state import HOST, Link, Namespace, Peer, Snapshot
from generator.transcript.state_names import Names, names


def _lab(veths: dict[str, int], nsid: int) -> Snapshot:
    """Two containers on one bridge: each host-side veth (random name, ifindex) to eth0 in c1/c2."""
    host_links = [Link("br0", 3, "bridge", "UP", "02:00:00:00:00:03", 1500)]
    inner = []
    made = sorted(veths.items(), key=lambda item: item[1])  # c1's veth is made first
    for number, ((name, index), container) in enumerate(zip(made, ("c1", "c2"), strict=True)):
        peer = Peer(f"container:{container}", "eth0")
        host_links.append(
            Link(
                name,
                index,
                "veth",
                "UP",
                f"aa:00:00:00:{index % 256:02x}:01",
                1500,
                "br0",
                peer,
                peer_ifindex=index - 1,
                peer_nsid=nsid + number,
            )
        )
        eth0 = Link(
            "eth0",
            index - 1,
            "veth",
            "UP",
            f"02:42:00:00:00:{index % 256:02x}",
            1500,
            peer=Peer(HOST, name),
            peer_ifindex=index,
            peer_nsid=0,
        )
        inner.append(Namespace(f"container:{container}", "container", container, (eth0,)))
    return Snapshot("local", (Namespace(HOST, "host", "host", tuple(host_links)), *inner))


def _step(index: int, command: str, stdout: str) -> StepRecord:
    return StepRecord(index, "main", command, Expectation(), 0, 0.01, "ok", stdout=stdout)


def _ip_link(snapshot: Snapshot, order: list[str]) -> str:
    host = snapshot.namespace(HOST)
    assert host is not None
    lines = []
    for name in order:
        link = host.link(name)
        assert link is not None and link.peer is not None
        lines.append(
            f"{link.ifindex}: {name}@if{link.peer_ifindex}: <BROADCAST,MULTICAST,UP> "
            f"mtu 1500 master br0 state UP mode DEFAULT group default"
        )
        lines.append(
            f"    link/ether {link.mac} brd ff:ff:ff:ff:ff:ff link-netnsid {link.peer_nsid}"
        )
    return "\n".join(lines) + "\n"


def _run(snapshot: Snapshot) -> list[StepRecord]:
    """A listing in name order (ls, brctl), then `ip link` in ifindex order (creation order)."""
    host = snapshot.namespace(HOST)
    assert host is not None
    veths = [link for link in host.links if link.kind == "veth"]
    by_name = "".join(f"{link.ifname}\n" for link in sorted(veths, key=lambda v: v.ifname))
    by_index = [link.ifname for link in sorted(veths, key=lambda v: v.ifindex)]
    return [
        _step(1, "ls /sys/class/net/br0/brif", by_name),
        _step(2, "ip link show master br0", _ip_link(snapshot, by_index)),
    ]


def test_the_order_of_random_veth_names_and_the_netnsid_counter_make_no_drift() -> None:
    # c1's veth is made first both times; its random name sorts first in the recording and
    # last now, and the kernel's counters have moved.
    old = _lab({"vethaaaaaa1": 11, "vethbbbbbb2": 13}, nsid=1)
    new = _lab({"vethffffff1": 2011, "veth000000a": 2013}, nsid=2)
    before, after = _run(old), _run(new)
    numbered = compare(before, after)  # numbering by first appearance: VETH#1 and #2 swap
    assert [d.index for d in numbered.drifts] == [2]
    named = compare(before, after, names=(names([("", old)]), names([("", new)])))
    assert named.ok, named.drifts


def test_lines_that_only_change_places_with_other_volatile_names_are_the_same() -> None:
    old = _lab({"vethaaaaaa1": 11, "vethbbbbbb2": 13}, nsid=1)
    new = _lab({"vethffffff1": 2011, "veth000000a": 2013}, nsid=2)
    both = (names([("", old)]), names([("", new)]))
    before = [_step(1, "ls /sys/class/net/br0/brif", "vethaaaaaa1\nvethbbbbbb2\n")]
    after = [_step(1, "ls /sys/class/net/br0/brif", "veth000000a\nvethffffff1\n")]
    assert compare(before, after, names=both).ok
    # but a line that is not there any more is drift, whatever the order
    gone = [_step(1, "ls /sys/class/net/br0/brif", "veth000000a\n")]
    assert not compare(before, gone, names=both).ok
    # and lines without volatile names keep their order
    plain = ([_step(1, "cat f", "a\nb\n")], [_step(1, "cat f", "b\na\n")])
    assert not compare(*plain).ok


def test_a_veth_on_the_other_end_is_drift_even_with_names() -> None:
    old = _lab({"vethaaaaaa1": 11, "vethbbbbbb2": 13}, nsid=1)
    new = _lab({"vethaaaaaa1": 11, "vethbbbbbb2": 13}, nsid=1)
    before = [_step(1, "ip link show master br0", _ip_link(old, ["vethaaaaaa1", "vethbbbbbb2"]))]
    # the replay's listing shows only c2's veth where c1's was: a different interface
    after = [_step(1, "ip link show master br0", _ip_link(new, ["vethbbbbbb2"]))]
    result = compare(before, after, names=(names([("", old)]), names([("", new)])))
    assert not result.ok
    diff = "\n".join(result.drifts[0].diffs[0].lines)
    assert "VETH(c1:eth0)" in diff


def test_values_the_snapshot_does_not_know_fall_back_to_order() -> None:
    known = names([("", _lab({"vethaaaaaa1": 11, "vethbbbbbb2": 13}, nsid=1))])
    before = [_step(1, "ip link", "5: vethdead001@if4: <UP>\n")]
    after = [_step(1, "ip link", "7: vethbeef002@if6: <UP>\n")]
    assert compare(before, after, names=(known, known)).ok  # VETH#1, IF#1 on both sides


def test_netnsid_is_named_per_viewer() -> None:
    snapshot = _lab({"vethaaaaaa1": 11, "vethbbbbbb2": 13}, nsid=1)
    found = names([("", snapshot)])
    assert found.nsid[("", HOST, "1")] == "c1" and found.nsid[("", HOST, "2")] == "c2"
    assert found.nsid[("", "container:c1", "0")] == "host"
    assert isinstance(found, Names) and found


def _docker_lab(subnet: str, gateway: str, ip: str) -> Snapshot:
    from generator.transcript.state import Attachment, Container, DockerNetwork

    box = Container(
        "box", "c" * 64, "busybox", "running", "", (Attachment("nu-net", ip, 20, "", gateway),)
    )
    net = DockerNetwork("nu-net", "d" * 64, "bridge", subnet, gateway, "br-dddddddddddd", ("box",))
    return Snapshot("local", containers=(box,), networks=(net,))


def test_addresses_in_a_range_docker_picked_are_named_by_their_place_in_it() -> None:
    """A fresh engine gives the lab's network 172.18.0.0/16; after other labs 192.168.96.0/20:
    the same lab, so the same text; another place in the range still drifts."""
    old = _docker_lab("172.18.0.0/16", "172.18.0.1", "172.18.0.2")
    new = _docker_lab("192.168.96.0/20", "192.168.96.1", "192.168.96.2")

    def inspect(subnet: str, gateway: str, address: str, broadcast: str) -> list[StepRecord]:
        return [
            _step(
                1,
                "docker network inspect nu-net",
                f'"Subnet": "{subnet}", "Gateway": "{gateway}"\n',
            ),
            _step(
                2,
                "docker exec box ip addr show eth0",
                f"inet {address} brd {broadcast} scope global eth0\n",
            ),
            _step(
                3,
                "docker exec box ping -c1 box",
                f"PING box ({address.split('/')[0]}): 56 data bytes\n",
            ),
        ]

    before = inspect("172.18.0.0/16", "172.18.0.1", "172.18.0.2/16", "172.18.255.255")
    after = inspect("192.168.96.0/20", "192.168.96.1", "192.168.96.2/20", "192.168.111.255")
    both = (names([("", old)]), names([("", new)]))
    assert not compare(before, after).ok  # without the snapshots, every address drifts
    result = compare(before, after, names=both)
    assert result.ok, [d.diffs for d in result.drifts]
    elsewhere = inspect("192.168.96.0/20", "192.168.96.1", "192.168.96.9/20", "192.168.111.255")
    moved = compare(before, elsewhere, names=both)
    assert [d.index for d in moved.drifts] == [2, 3]
    assert "IP(nu-net+9)" in "\n".join(moved.drifts[0].diffs[0].lines)


def test_a_range_there_before_the_lab_is_not_renamed() -> None:
    from dataclasses import replace

    snap = replace(
        _docker_lab("172.17.0.0/16", "172.17.0.1", "172.17.0.2"), preexisting=("network nu-net",)
    )
    assert names([("", snap)]).subnets == {}
