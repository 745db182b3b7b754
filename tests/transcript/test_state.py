"""The state snapshot's parsers on real output, captured on Debian 12 (iproute2 6.1, Docker
20.10): the batched command's sections for two named namespaces (a veth pair, a bridge, a
VXLAN device), a container on a user-defined network, and
iptables-save before and after Docker made that network. Trimmed to the fields read; the
mount of a namespace that is not a network namespace (nsenter cannot enter it) stands in for
one of the virtual nodes' other namespaces."""

from __future__ import annotations

import json

from generator.transcript import state_build, state_parse
from generator.transcript.state import Peer, Snapshot

BATCHED = r"""
@@rcp ns host host -
[{"ifindex":1,"ifname":"lo","mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00"},{"ifindex":9674,"ifname":"br-2c54eeb3b5b0","mtu":1500,"operstate":"UP","link_type":"ether","address":"02:42:17:df:03:aa","linkinfo":{"info_kind":"bridge"}},{"ifindex":9676,"link_index":9675,"ifname":"vethcd11582","mtu":1500,"master":"br-2c54eeb3b5b0","operstate":"UP","link_type":"ether","address":"76:ff:fd:48:e1:3c","link_netnsid":0,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge"}}]
[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},{"ifindex":9674,"ifname":"br-2c54eeb3b5b0","addr_info":[{"family":"inet","local":"192.168.160.1","prefixlen":20,"scope":"global"},{"family":"inet6","local":"fe80::42:17ff:fedf:3aa","prefixlen":64,"scope":"link"}]},{"ifindex":9676,"ifname":"vethcd11582","addr_info":[{"family":"inet6","local":"fe80::74ff:fdff:fe48:e13c","prefixlen":64,"scope":"link"}]}]
[{"type":"unicast","dst":"192.168.160.0/20","dev":"br-2c54eeb3b5b0","protocol":"kernel","scope":"link","prefsrc":"192.168.160.1","flags":[]}]
[{"nsid":0}]
@@rcp ns netns rcp-obs-a /run/netns/rcp-obs-a
[{"ifindex":1,"ifname":"lo","mtu":65536,"operstate":"DOWN","link_type":"loopback","address":"00:00:00:00:00:00"},{"ifindex":2,"link_index":2,"ifname":"rcp-obs-va","mtu":1500,"master":"rcp-obs-br","operstate":"UP","link_type":"ether","address":"8a:41:61:24:9f:80","link_netnsid":0,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge"}},{"ifindex":3,"ifname":"rcp-obs-br","mtu":1500,"operstate":"UP","link_type":"ether","address":"8a:41:61:24:9f:80","linkinfo":{"info_kind":"bridge"}},{"ifindex":4,"ifname":"rcp-obs-vx","mtu":1450,"operstate":"DOWN","link_type":"ether","address":"5e:4b:93:34:2c:d6","linkinfo":{"info_kind":"vxlan","info_data":{"id":42,"remote":"10.99.0.2","link":"rcp-obs-br","port":4789}}}]
[{"ifindex":1,"ifname":"lo","addr_info":[]},{"ifindex":2,"ifname":"rcp-obs-va","addr_info":[{"family":"inet6","local":"fe80::8841:61ff:fe24:9f80","prefixlen":64,"scope":"link"}]},{"ifindex":3,"ifname":"rcp-obs-br","addr_info":[{"family":"inet","local":"10.99.0.1","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fe80::8841:61ff:fe24:9f80","prefixlen":64,"scope":"link"}]},{"ifindex":4,"ifname":"rcp-obs-vx","addr_info":[]}]
[{"type":"unicast","dst":"10.99.0.0/24","dev":"rcp-obs-br","protocol":"kernel","scope":"link","prefsrc":"10.99.0.1","flags":[]}]
[{"nsid":0,"name":"rcp-obs-b"}]
@@rcp ns netns rcp-obs-b /run/netns/rcp-obs-b
[{"ifindex":1,"ifname":"lo","mtu":65536,"operstate":"DOWN","link_type":"loopback","address":"00:00:00:00:00:00"},{"ifindex":2,"link_index":2,"ifname":"rcp-obs-vb","mtu":1500,"operstate":"DOWN","link_type":"ether","address":"6e:3e:79:9e:70:28","link_netnsid":0,"linkinfo":{"info_kind":"veth"}}]
[{"ifindex":1,"ifname":"lo","addr_info":[]},{"ifindex":2,"ifname":"rcp-obs-vb","addr_info":[{"family":"inet","local":"10.99.0.2","prefixlen":24,"scope":"global"}]}]
[{"type":"unicast","dst":"default","gateway":"10.99.0.1","dev":"rcp-obs-vb","protocol":"boot","scope":"global","flags":[]},{"type":"unicast","dst":"10.99.0.0/24","dev":"rcp-obs-vb","protocol":"kernel","scope":"link","prefsrc":"10.99.0.2","flags":[]}]
[{"nsid":0,"name":"rcp-obs-a"}]
@@rcp ns mounted - /run/recipe-hosts/docker-node1/mnt
nsenter: reassociate to namespace 'ns/net' failed: Invalid argument
@@rcp ns mounted - /run/docker/netns/7ae15231a645
[{"ifindex":1,"ifname":"lo","mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00"},{"ifindex":9675,"link_index":9676,"ifname":"eth0","mtu":1500,"operstate":"UP","link_type":"ether","address":"02:42:c0:a8:a0:02","link_netnsid":0,"linkinfo":{"info_kind":"veth"}}]
[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]},{"ifindex":9675,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.168.160.2","prefixlen":20,"scope":"global"}]}]
[{"type":"unicast","dst":"default","gateway":"192.168.160.1","dev":"eth0","protocol":"boot","scope":"global","flags":[]},{"type":"unicast","dst":"192.168.160.0/20","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.168.160.2","flags":[]}]
[{"nsid":0}]
@@rcp docker-containers
[{"Id":"2870bbb998ffc33f44e89487fc6ee99ca0824958d74542d6b3104ee7ac121910","Name":"/rcp-obs-c","State":{"Status":"running","Pid":23229},"Config":{"Image":"busybox"},"NetworkSettings":{"SandboxKey":"/var/run/docker/netns/7ae15231a645","Networks":{"rcp-obs-net":{"IPAddress":"192.168.160.2","IPPrefixLen":20,"MacAddress":"02:42:c0:a8:a0:02","Gateway":"192.168.160.1","NetworkID":"2c54eeb3b5b0f74197596593e74fdeb609065e7e6f1230e1466a5941cf68d0e8"}}}}]
@@rcp docker-networks
[{"Name":"rcp-obs-net","Id":"2c54eeb3b5b0f74197596593e74fdeb609065e7e6f1230e1466a5941cf68d0e8","Scope":"local","Driver":"bridge","IPAM":{"Config":[{"Subnet":"192.168.160.0/20","Gateway":"192.168.160.1"}]},"Options":{},"Containers":{"2870bbb998ffc33f44e89487fc6ee99ca0824958d74542d6b3104ee7ac121910":{"Name":"rcp-obs-c","MacAddress":"02:42:c0:a8:a0:02","IPv4Address":"192.168.160.2/20"}}}]
@@rcp docker-nodes
[]
@@rcp end
"""

IPTABLES_BEFORE = """
# Generated by iptables-save v1.8.9 (nf_tables) on Wed Dec  2 14:57:53 2026
*filter
:FORWARD DROP [12:1008]
:DOCKER - [0:0]
-A FORWARD -j DOCKER-USER
COMMIT
# Completed on Wed Dec  2 14:57:53 2026
# Generated by iptables-save v1.8.9 (nf_tables) on Wed Dec  2 14:57:53 2026
*nat
:DOCKER - [0:0]
COMMIT
# Completed on Wed Dec  2 14:57:53 2026
"""

IPTABLES_AFTER = """
# Generated by iptables-save v1.8.9 (nf_tables) on Wed Dec  2 14:57:53 2026
*filter
:FORWARD DROP [12:1008]
:DOCKER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -o br-2c54eeb3b5b0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o br-2c54eeb3b5b0 -j DOCKER
-A FORWARD -i br-2c54eeb3b5b0 ! -o br-2c54eeb3b5b0 -j ACCEPT
-A FORWARD -i br-2c54eeb3b5b0 -o br-2c54eeb3b5b0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i br-2c54eeb3b5b0 ! -o br-2c54eeb3b5b0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-2 -o br-2c54eeb3b5b0 -j DROP
COMMIT
# Completed on Wed Dec  2 14:57:53 2026
# Generated by iptables-save v1.8.9 (nf_tables) on Wed Dec  2 14:57:53 2026
*nat
:DOCKER - [0:0]
-A POSTROUTING -s 192.168.160.0/20 ! -o br-2c54eeb3b5b0 -j MASQUERADE
-A DOCKER -i br-2c54eeb3b5b0 -j RETURN
COMMIT
# Completed on Wed Dec  2 14:57:53 2026
"""


def snapshot() -> Snapshot:
    docker = state_build.docker_from_output(BATCHED)
    assert isinstance(docker, state_build.DockerAttrs)
    return state_build.build("labhost", BATCHED, docker)


def test_the_sections_read_as_namespaces_named_by_what_they_are() -> None:
    snap = snapshot()
    assert [ns.id for ns in snap.namespaces] == [
        "host",
        "netns:rcp-obs-a",
        "netns:rcp-obs-b",
        "container:rcp-obs-c",  # found at /run/docker/netns, Docker says /var/run/docker/netns
    ]
    assert not snap.is_partial


def test_a_veth_peer_between_named_namespaces_with_the_same_ifindex() -> None:
    snap = snapshot()
    a, b = snap.namespace("netns:rcp-obs-a"), snap.namespace("netns:rcp-obs-b")
    assert a is not None and b is not None
    va, vb = a.link("rcp-obs-va"), b.link("rcp-obs-vb")
    assert va is not None and vb is not None
    # Both ends are ifindex 2 and point at ifindex 2 in nsid 0: only list-id's names tell.
    assert (va.ifindex, va.peer_ifindex, vb.ifindex, vb.peer_ifindex) == (2, 2, 2, 2)
    assert va.peer == Peer("netns:rcp-obs-b", "rcp-obs-vb")
    assert vb.peer == Peer("netns:rcp-obs-a", "rcp-obs-va")


def test_a_container_end_is_found_without_a_name_for_its_namespace() -> None:
    snap = snapshot()
    inside, host = snap.namespace("container:rcp-obs-c"), snap.namespace("host")
    assert inside is not None and host is not None
    eth0 = inside.link("eth0")
    assert eth0 is not None and eth0.peer is not None
    assert eth0.peer.namespace == "host"
    host_end = host.link(eth0.peer.ifname)
    assert host_end is not None
    assert host_end.peer == Peer("container:rcp-obs-c", "eth0")


def test_bridge_ports_vxlan_addresses_and_routes() -> None:
    snap = snapshot()
    a, b = snap.namespace("netns:rcp-obs-a"), snap.namespace("netns:rcp-obs-b")
    assert a is not None and b is not None
    assert a.bridge_ports() == {"rcp-obs-br": ("rcp-obs-va",)}
    vx = a.link("rcp-obs-vx")
    assert vx is not None and vx.kind == "vxlan" and vx.vxlan is not None
    assert (vx.vxlan.vni, vx.vxlan.remote, vx.vxlan.device, vx.vxlan.port) == (
        42,
        "10.99.0.2",
        "rcp-obs-br",
        4789,
    )
    assert [x.cidr for x in a.addresses if x.family == "inet"] == ["10.99.0.1/24"]
    default = next(r for r in b.routes if r.dst == "default")
    assert (default.gateway, default.dev) == ("10.99.0.1", "rcp-obs-vb")
    lo = a.link("lo")
    assert lo is not None and (lo.kind, lo.state, lo.mtu) == ("loopback", "DOWN", 65536)


def test_docker_containers_and_networks() -> None:
    snap = snapshot()
    (c,) = snap.containers
    (net,) = snap.networks
    assert (c.name, c.image, c.state, c.namespace) == (
        "rcp-obs-c",
        "busybox",
        "running",
        "container:rcp-obs-c",
    )
    (att,) = c.networks
    assert (att.network, att.ip, att.prefixlen, att.gateway) == (
        "rcp-obs-net",
        "192.168.160.2",
        20,
        "192.168.160.1",
    )
    assert (net.driver, net.subnet, net.gateway) == ("bridge", "192.168.160.0/20", "192.168.160.1")
    assert net.bridge == "br-2c54eeb3b5b0" and net.members == ("rcp-obs-c",)
    host = snap.namespace("host")
    inside = snap.namespace(c.namespace)
    assert host is not None and inside is not None
    eth0 = inside.link("eth0")
    assert eth0 is not None and eth0.mac == att.mac and eth0.peer is not None
    assert host.bridge_ports()[net.bridge] == (eth0.peer.ifname,)


def test_iptables_as_a_difference_without_counters() -> None:
    before = state_parse.iptables_rules(IPTABLES_BEFORE)
    diff = state_parse.iptables_diff(before, state_parse.iptables_rules(IPTABLES_AFTER))
    assert (
        "nat: -A POSTROUTING -s 192.168.160.0/20 ! -o br-2c54eeb3b5b0 -j MASQUERADE" in diff.added
    )
    assert all("br-2c54eeb3b5b0" in rule or "192.168.160" in rule for rule in diff.added)
    assert not diff.removed
    assert "filter: :FORWARD DROP" in before  # the chain policy, its packet counters dropped


def test_what_is_missing_makes_the_snapshot_partial() -> None:
    snap = state_build.build("h", "@@rcp missing ip\n@@rcp end\n", None, ["no engine"])
    assert snap.partial == ("no engine", "ip is not installed") and snap.namespaces == ()
    old_ip = '@@rcp ns host host -\nOption "-j" is unknown, try "ip -help".\n@@rcp end\n'
    assert state_build.build("h", old_ip, None).partial == (
        "ip -j printed no JSON (iproute2 older than 4.14?)",
    )
    assert state_build.docker_from_output("@@rcp no-docker docker is not installed\n") == (
        "docker is not installed"
    )
    assert state_build.build("h", "@@rcp unprivileged\n", None).partial == (
        "not root: namespaces other than this shell's could not be entered",
    )
    with_baseline = state_build.build("h", BATCHED, None, baseline=frozenset())
    assert with_baseline.partial == ("iptables-save gave nothing to compare with the baseline",)


def test_the_snapshot_is_plain_json() -> None:
    data = json.loads(json.dumps(snapshot().to_json()))
    assert data["host"] == "labhost" and data["is_partial"] is False
    links = {link["ifname"]: link for ns in data["namespaces"] for link in ns["links"]}
    assert links["rcp-obs-va"]["peer"] == {"namespace": "netns:rcp-obs-b", "ifname": "rcp-obs-vb"}
