"""Normalization: each volatile value becomes a placeholder; meaningful text stays as it is."""

from __future__ import annotations

import pytest

from generator.compare.normalize import Bindings, Normalizer, recipe_rules
from generator.transcript.patterns import PatternError

# (raw output, normalized), one kind of volatile value per row; values seen on this machine.
CASES = [
    (
        "    link/ether be:48:4b:cd:50:ec brd ff:ff:ff:ff:ff:ff",
        "    link/ether MAC#1 brd ff:ff:ff:ff:ff:ff",
    ),
    (
        "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
    ),
    ("11: rpxa@if10: <BROADCAST,UP> mtu 1500", "IF#1: rpxa@IF#2: <BROADCAST,UP> mtu 1500"),
    ("12: vethe125f42@if11: <UP> master docker0", "IF#1: VETH#1@IF#2: <UP> master docker0"),
    (
        "3: eth0    inet 172.17.0.2/16 brd 172.17.255.255",
        "IF#1: eth0    inet 172.17.0.2/16 brd 172.17.255.255",
    ),
    ("    inet6 fe80::bc48:4bff:fecd:50ec/64 scope link ", "    inet6 LL#1/64 scope link "),
    (
        "    inet6 fe80::bc48:4bff:fecd:50ec/64 scope link tentative ",
        "    inet6 LL#1/64 scope link ",
    ),
    ("fe80::/64 dev rpxa proto kernel metric 256", "fe80::/64 dev rpxa proto kernel metric 256"),
    ("a043cce41274   bridge    bridge    local", "ID#1   bridge    bridge    local"),
    ("a043cce41274afbb13a78ff418520517d7c100f51eb4034cc55d08127b1f7a5c", "ID#1"),
    (
        "64 bytes from 10.250.0.2: icmp_seq=1 ttl=64 time=0.386 ms",
        "64 bytes from 10.250.0.2: icmp_seq=1 ttl=64 time=<RTT> ms",
    ),
    (
        "3 packets transmitted, 3 received, 0% packet loss, time 407ms",
        "3 packets transmitted, 3 received, 0% packet loss, time <DURATION>ms",
    ),
    ("rtt min/avg/max/mdev = 0.040/0.213/0.386/0.173 ms", "rtt min/avg/max/mdev = <RTT> ms"),
    ("round-trip min/avg/max = 0.065/0.065/0.065 ms", "round-trip min/avg/max = <RTT> ms"),
    (
        "10.250.0.2 dev rpxa lladdr 0a:3b:89:62:28:8c REACHABLE",
        "10.250.0.2 dev rpxa lladdr MAC#1 <NUD>",
    ),
    ("10.250.0.9 dev rpxa INCOMPLETE", "10.250.0.9 dev rpxa INCOMPLETE"),
    ('"Created": "2026-11-29T04:36:50.710778456Z",', '"Created": "<TIME>",'),
    ("Sun Nov 29 04:41:48 UTC 2026", "<TIME>"),
    (
        "04:41:48.123456 IP 10.0.0.1 > 10.0.0.2: ICMP echo request",
        "<TIME> IP 10.0.0.1 > 10.0.0.2: ICMP echo request",
    ),
    ("Up 3 seconds", "Up <AGE>"),
    ("Created About a minute ago", "Created <AGE>"),
    ("real\t0m0.003s", "real\t<DURATION>"),
    ("ESTAB 0 0 127.0.0.1:45678 127.0.0.1:80", "ESTAB 0 0 127.0.0.1:PORT#1 127.0.0.1:80"),
    ("LISTEN 0 4096 0.0.0.0:22 0.0.0.0:*", "LISTEN 0 4096 0.0.0.0:22 0.0.0.0:*"),
    ('users:(("nc",pid=1234,fd=3))', 'users:(("nc",pid=PID#1,fd=3))'),
    ("docker0\t\t8000.0242fe57927a\tno\t\tvethe125f42", "docker0\t\t8000.MAC#1\tno\t\tVETH#1"),
    (
        "IP 203.0.113.1 > 203.0.113.10: ICMP echo request, id 22, seq 1, length 64",
        "IP 203.0.113.1 > 203.0.113.10: ICMP echo request, id PINGID#1, seq 1, length 64",
    ),
    (
        "Chain POSTROUTING\n"
        "   12  1008 MASQUERADE  0    --  *      !docker0  172.17.0.0/16  0.0.0.0/0",
        "Chain POSTROUTING\n"
        "<COUNTERS> MASQUERADE  0    --  *      !docker0  172.17.0.0/16  0.0.0.0/0",
    ),
    (
        "Chain POSTROUTING (policy ACCEPT 3 packets, 252 bytes)",
        "Chain POSTROUTING (policy ACCEPT <COUNTERS>)",
    ),
    (
        "test1:eth0 is paired with host interface 2483: vethe125f42",
        "test1:eth0 is paired with host interface IF#1: VETH#1",
    ),
    # Meaningful values stay: rule priorities, addresses, counts, names with digits.
    ("32766:\tfrom all lookup main", "32766:\tfrom all lookup main"),
    ("default via 192.168.88.1 dev veth-test1", "default via 192.168.88.1 dev veth-test1"),
    (
        "3 packets transmitted, 0 received, 100% packet loss",
        "3 packets transmitted, 0 received, 100% packet loss",
    ),
    ("RX bytes 123456789012", "RX bytes 123456789012"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_each_volatile_value_is_replaced(raw: str, expected: str) -> None:
    assert Normalizer().text(raw) == expected


def test_same_value_same_placeholder_throughout_a_transcript() -> None:
    norm = Normalizer()
    host = norm.text("12: vethe125f42@if11: <UP> master docker0\n")
    container = norm.text("11: eth0@if12: <UP>\n")
    again = norm.text("vethe125f42 is up\n")
    assert host == "IF#1: VETH#1@IF#2: <UP> master docker0\n"
    assert container == "IF#2: eth0@IF#1: <UP>\n"  # the pairing reads the same on both sides
    assert again == "VETH#1 is up\n"


def test_a_bridge_id_names_the_bridge_mac() -> None:
    norm = Normalizer()
    norm.text("    link/ether 02:42:fe:57:92:7a brd ff:ff:ff:ff:ff:ff\n")
    assert norm.text("docker0\t\t8000.0242fe57927a\tno") == "docker0\t\t8000.MAC#1\tno"


def test_short_and_full_docker_ids_share_a_placeholder() -> None:
    full = "3f4e9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"
    norm = Normalizer()
    assert norm.text(full + "\n") == "ID#1\n"
    assert norm.text("3f4e9a1b2c3d   test1\n") == "ID#1   test1\n"


def test_an_id_of_twelve_digits_is_bound_only_when_a_full_id_began_with_it() -> None:
    norm = Normalizer()
    assert norm.text("br-691024200650") == "br-691024200650"
    norm.text("691024200650bb22f7d87d15b79dcd65cf85cc763df3137f574b1b09769508ff")
    assert norm.text("br-691024200650") == "br-ID#1"


def test_bindings_give_back_the_real_value() -> None:
    bindings = Bindings()
    norm = Normalizer(bindings=bindings)
    norm.text("link/ether be:48:4b:cd:50:ec and link/ether 0a:3b:89:62:28:8c")
    assert bindings.value("MAC#2") == "0a:3b:89:62:28:8c"
    assert bindings.value("MAC#3") is None
    assert bindings.value("VETH#1") is None


def test_many_equals_text_one_by_one() -> None:
    texts = ["11: a@if10: <UP>\n", "", "10: b@if11: <UP>\nlink/ether be:48:4b:cd:50:ec\n", "x"]
    one = Normalizer()
    assert Normalizer().many(texts) == [one.text(t) for t in texts]


def test_recipe_rules_bind_or_mask_and_run_before_the_builtins() -> None:
    found = recipe_rules(
        {
            "normalize": [
                {"pattern": r"lease \d+", "placeholder": "LEASE"},
                {"pattern": r"seq=\d+", "placeholder": "SEQ", "bind": False},
                {"ignore": "[*].Containers.*.MacAddress"},
                {"unordered": r"^brctl show"},
            ]
        }
    )
    norm = Normalizer(found.rules)
    assert norm.text("lease 42, lease 7, lease 42; seq=3") == "LEASE#1, LEASE#2, LEASE#1; <SEQ>"
    assert found.ignore == ("[*].Containers.*.MacAddress",)
    assert found.unordered[0].search("brctl show docker0")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"pattern": "(", "placeholder": "X"}, "bad regex"),
        ({"pattern": "a*", "placeholder": "X"}, "matches the empty string"),
        ({"pattern": "a", "placeholder": "lower"}, "upper-case name"),
        ({"placeholder": "X"}, "needs `pattern`"),
    ],
)
def test_bad_recipe_rules_say_which_entry_and_why(entry: dict[str, object], message: str) -> None:
    with pytest.raises(PatternError, match=message) as caught:
        recipe_rules({"normalize": [entry]}, "recipes/x/recipe.toml")
    assert "recipes/x/recipe.toml: [[normalize]] entry 1" in str(caught.value)


@pytest.mark.parametrize(
    ("command", "view"),
    [
        ("ip a", ""),
        ("ip netns exec test1 ip link", "netns test1"),
        ('ip -n "$ns" link show', 'netns "$ns"'),
        ("docker exec -it -e A=1 -u root test3 ip a", "container test3"),
        ("docker container exec test1 ip link", "container test1"),
        ("nsenter --net=/run/netns/x ip a", "nsenter --net=/run/netns/x"),
    ],
)
def test_netns_view_reads_where_a_command_looks_from(command: str, view: str) -> None:
    from generator.compare.views import netns_view

    assert netns_view(command) == view
    assert netns_view(command, "node1") == f"node1: {view}"


def _link(nsid: int) -> str:
    return f"    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid {nsid}"


def test_netnsid_is_bound_per_viewer_so_history_does_not_count() -> None:
    """A machine with history numbers namespaces higher; the same pattern of who-is-who reads
    the same. On a fresh machine both viewers say 0; later the host says 2 and the container 0."""
    fresh = Normalizer().many([_link(0), _link(0), _link(1)], ["", "container c1", ""])
    later = Normalizer().many([_link(2), _link(0), _link(3)], ["", "container c1", ""])
    assert fresh == later
    assert [line.rsplit(" ", 1)[1] for line in fresh] == ["NSID#1", "NSID#2", "NSID#3"]


def test_netnsid_still_shows_a_peer_moved_to_another_namespace() -> None:
    """Two veths whose peers share a namespace, against two whose peers do not: drift."""
    together = Normalizer().many([_link(0), _link(0)], ["", ""])
    apart = Normalizer().many([_link(4), _link(5)], ["", ""])
    assert together != apart
    bindings = Bindings()
    Normalizer(bindings=bindings).text(_link(7), "netns test1")
    assert bindings.value("NSID#1") == "7 (seen from netns test1)"
