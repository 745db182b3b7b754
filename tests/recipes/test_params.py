"""Parameter validation through the real command line: every bad value is one clear line on
stderr, exit status 2, no traceback and no script on stdout."""

from __future__ import annotations

import pytest

from tests.cli_runner import assert_one_line_error, invoke

# (recipe, --set values, fragments the one error line must contain)
BAD = [
    # interface names: IFNAMSIZ counts bytes, not characters
    ("veth-pair", ["if1=veth-abcdefghijk"], ["if1=veth-abcdefghijk", "16 bytes", "at most 15"]),
    ("veth-pair", ["if1=éééééééé"], ["16 bytes"]),
    ("linux-bridge", ["bridge=a-very-long-bridge"], ["bridge=", "bytes"]),
    ("linux-bridge", ["prefix=abcdefghij", "n=100"], ["veth-abcdefghij100", "15 bytes"]),
    ("ping-telnet", ["client_if=veth/1"], ["client_if=veth/1", "'/'"]),
    ("ping-telnet", ["server_if=veth 1"], ["server_if=veth 1", "spaces"]),
    ("veth-pair", ["if2=a:b"], ["if2=a:b", "':'"]),
    ("veth-pair", ["if1=-x"], ["if1=-x", "option"]),
    ("veth-pair", ["if1="], ["if1=", "non-empty"]),
    ("bridge-nat", ["uplink=.."], ["uplink=.."]),
    # namespace, container, network and image names
    ("netns-basics", ["ns1=../etc"], ["ns1=../etc", "/run/netns"]),
    ("netns-basics", ["ns2=a b"], ["ns2=a b"]),
    ("netns-basics", ["ns1=same", "ns2=same"], ["different names"]),
    ("bridge-nat", ["container=-rf"], ["container=-rf", "Docker"]),
    ("bridge-nat", ["container=x"], ["two or more characters"]),
    ("bridge-nat", ["image=BusyBox"], ["image=BusyBox", "image reference"]),
    ("ping-telnet", ["banner=tab\there"], ["banner=", "control characters"]),
    # CIDRs
    ("veth-pair", ["subnet=192.168.88.0/33"], ["subnet=192.168.88.0/33", "prefix length"]),
    ("veth-pair", ["subnet=not-a-network"], ["subnet=not-a-network", "IPv4 network"]),
    ("linux-bridge", ["subnet=300.1.2.0/24"], ["subnet=300.1.2.0/24"]),
    ("veth-pair", ["subnet=192.168.88.1/24"], ["host bits set", "192.168.88.0/24"]),
    ("linux-bridge", ["subnet=172.30.0.7/24"], ["host bits set", "172.30.0.0/24"]),
    # addresses: inside their subnet, not the network or broadcast address, unique
    ("veth-pair", ["addr1=10.0.0.1/24"], ["addr1=10.0.0.1/24", "outside", "192.168.88.0/24"]),
    ("ping-telnet", ["silent=192.168.91.9"], ["silent=192.168.91.9", "outside"]),
    ("veth-pair", ["addr1=192.168.88.255/24"], ["broadcast"]),
    ("veth-pair", ["addr1=192.168.88.7"], ["with a prefix"]),
    ("veth-pair", ["addr2=192.168.88.1/24"], ["addr1", "addr2", "192.168.88.1", "unique"]),
    ("ping-telnet", ["silent=192.168.90.2"], ["server_addr", "silent", "unique"]),
    ("bridge-nat", ["outside_addr=203.0.113.1/24"], ["uplink_addr", "outside_addr", "unique"]),
    # integers, ports and booleans in range
    ("veth-pair", ["count=0"], ["count=0", "at least 1"]),
    ("veth-pair", ["count=101"], ["count=101", "at most 100"]),
    ("veth-pair", ["count=three"], ["count=three", "integer"]),
    ("linux-bridge", ["n=0"], ["n=0", "at least 1"]),
    ("linux-bridge", ["n=300"], ["n=300", "do not fit", "172.30.0.0/24"]),
    ("linux-bridge", ["n=14", "subnet=10.9.0.0/28"], ["n=14", "do not fit"]),
    ("ping-telnet", ["port=70000"], ["port=70000", "65535"]),
    ("ping-telnet", ["closed_port=8080"], ["closed port must differ"]),
    ("linux-bridge", ["nat=maybe"], ["nat=maybe", "true or false"]),
    # the --set syntax itself
    ("veth-pair", ["colour=red"], ["no parameter 'colour'", "ns1"]),
    ("linux-bridge", ["N=3"], ["no parameter 'N'"]),
    ("veth-pair", ["count"], ["--set 'count'", "key=value"]),
    ("veth-pair", ["=3"], ["--set '=3'", "key=value"]),
]


@pytest.mark.parametrize(
    ("name", "sets", "fragments"), BAD, ids=[f"{n}:{' '.join(s)}" for n, s, _ in BAD]
)
def test_bad_parameter_is_one_clear_line_and_exit_2(
    name: str, sets: list[str], fragments: list[str]
) -> None:
    args = ["render", name]
    for pair in sets:
        args += ["--set", pair]
    assert_one_line_error(invoke(*args), *fragments)


def test_unknown_recipe_names_the_known_ones() -> None:
    assert_one_line_error(invoke("render", "no-such-lab"), "no-such-lab", "linux-bridge")


def test_show_rejects_bad_defaults_the_same_way() -> None:
    assert_one_line_error(invoke("show", "no-such-lab"), "unknown recipe")


@pytest.mark.parametrize(
    ("name", "sets"),
    [
        ("linux-bridge", ["n=100"]),
        ("linux-bridge", ["prefix=abcdefghi", "n=9"]),  # veth-abcdefghi9: exactly 15 bytes
        ("linux-bridge", ["n=13", "subnet=10.9.0.0/28"]),  # 13 hosts + gateway fill a /28
        ("veth-pair", ["if1=veth-abcdefghij"]),  # 15 bytes
        ("ping-telnet", ["banner=$(not run); `nor this`"]),
        ("bridge-nat", ["image=registry.local:5000/team/busybox:1.35"]),
    ],
)
def test_values_at_the_limits_are_accepted(name: str, sets: list[str]) -> None:
    args = ["render", name]
    for pair in sets:
        args += ["--set", pair]
    done = invoke(*args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("#!/usr/bin/env bash\n")
    for pair in sets:
        assert f"#@ param {pair}\n" in done.stdout


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("subnet=0.0.0.0/0", "too wide for a lab"),
        ("subnet=8.8.8.0/24", "public range"),
        ("subnet=127.0.0.0/24", "loopback"),
        ("addr1=8.8.8.1/24", "public range"),
    ],
)
def test_lab_addresses_stay_in_private_ranges(setting: str, fragment: str) -> None:
    assert_one_line_error(invoke("render", "veth-pair", "--set", setting), fragment)
