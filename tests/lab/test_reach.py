"""recipe reach on real namespaces on a real bridge, made here and removed in finally."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from generator.errors import UserError
from generator.lab import observe, reach, reach_rules
from generator.shell.local import LocalShell
from tests.cli_runner import assert_one_line_error, invoke

NAMES = ("rcp-rch-a", "rcp-rch-b", "rcp-rch-c")
BRIDGE = "rcp-rch-br"
SUBNET = "10.213.7"
IP = {name: f"{SUBNET}.{i}" for i, name in enumerate(NAMES, 2)}
ONLY = ("--only", "rcp-rch-*")
# Docker's FORWARD DROP reaches frames bridged between two ports once br_netfilter is loaded,
# as recipes/linux-bridge says: accept what our bridge switches, in DOCKER-USER if Docker is here.
CHAIN = (
    "if iptables -w -n -L DOCKER-USER >/dev/null 2>&1; then chain=DOCKER-USER;"
    " else chain=FORWARD; fi"
)
ACCEPT = f"-i {BRIDGE} -o {BRIDGE} -j ACCEPT"


def sh(script: str, check: bool = False) -> None:
    done = subprocess.run(["bash", "-ec", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0 or not check, done.stderr


@pytest.fixture
def three(clean_machine: None) -> Iterator[None]:
    setup = [f"ip link add {BRIDGE} type bridge", f"ip link set {BRIDGE} up"]
    for i, name in enumerate(NAMES):
        setup += [
            f"ip netns add {name}",
            f"ip link add rcp-rch-v{i} type veth peer name eth0 netns {name}",
            f"ip link set rcp-rch-v{i} master {BRIDGE}",
            f"ip link set rcp-rch-v{i} up",
            f"ip -n {name} addr add {IP[name]}/24 dev eth0",
            f"ip -n {name} link set eth0 up",
            f"ip -n {name} link set lo up",
        ]
    try:
        sh("\n".join([*setup, CHAIN, f'iptables -w -I "$chain" {ACCEPT}']), check=True)
        yield
    finally:
        sh(f'{CHAIN}\niptables -w -D "$chain" {ACCEPT} || true')
        # each veth by hand: a namespace's deletion takes its ends only later
        veths = [f"ip link del rcp-rch-v{i}" for i in range(len(NAMES))]
        sh("; ".join([*veths, *(f"ip netns del {n}" for n in NAMES), f"ip link del {BRIDGE}"]))


pytestmark = pytest.mark.root


def test_three_namespaces_on_a_bridge_reach_every_pair(three: None) -> None:
    done = invoke("reach", *ONLY, "--json")
    assert done.returncode == 0, (done.stdout, done.stderr)
    data = json.loads(done.stdout)
    assert data["holds"] and data["endpoints"] == list(NAMES)
    assert len(data["pairs"]) == 6
    assert all(p["expected"] and p["actual"] for p in data["pairs"])
    assert {p["why"] for p in data["pairs"]} == {f"same segment ({BRIDGE})"}
    text = invoke("reach", *ONLY)
    assert text.returncode == 0 and "the matrix holds" in text.stdout
    assert " FAIL" not in text.stdout.split("\n\n")[1]  # the table


def test_a_drop_rule_between_two_is_exit_1_naming_exactly_that_pair(three: None) -> None:
    a, b = NAMES[0], NAMES[1]
    # inside a's namespace, so the host's firewall is untouched; echo requests only, so b's
    # echoes still get their replies and only the pair a -> b breaks
    sh(f"ip netns exec {a} iptables -A OUTPUT -d {IP[b]} -p icmp --icmp-type echo-request -j DROP")
    done = invoke("reach", *ONLY, "--json")
    assert done.returncode == 1, done.stderr
    bad = [p for p in json.loads(done.stdout)["pairs"] if p["expected"] != p["actual"]]
    assert [(p["source"], p["target"]) for p in bad] == [(a, b)]
    assert bad[0]["cause"].startswith(f"a firewall rule in {a}: -A OUTPUT -d {IP[b]}/32")
    text = invoke("reach", *ONLY)
    assert text.returncode == 1
    assert f"{a} -> {b} ({IP[b]}): expected to reach" in text.stdout
    assert text.stdout.count("likely cause") == 1
    # a rule that expects it holds the matrix again
    assert invoke("reach", *ONLY, "--rule", f"{a} -> {b}: no").returncode == 0


def test_rules_refine_the_expectation_and_a_wrong_one_is_a_contradiction(three: None) -> None:
    a, c = NAMES[0], NAMES[2]
    done = invoke("reach", *ONLY, "--json", "--rule", f"* -> {c}: no; on {BRIDGE}: yes")
    assert done.returncode == 0  # the later rule wins: all on the bridge reach each other
    done = invoke("reach", *ONLY, "--json", "--rule", f"{a} -> {IP[c]}: no")
    assert done.returncode == 1
    bad = [p for p in json.loads(done.stdout)["pairs"] if p["expected"] != p["actual"]]
    assert [(p["source"], p["target"], p["cause"][:11]) for p in bad] == [(a, c, "it answered")]


@pytest.mark.parametrize(
    ("rule", "fragments"),
    [
        ("rcp-rch-a -> nobody: no", ("unknown endpoint nobody",)),
        ("rcp-rch-a -> rcp-rch-a: no", ("matches nothing",)),
        ("on no-such-net: yes", ("matches nothing", "no endpoint is on no-such-net")),
        ("rcp-rch-a -> 192.0.2.1: no", ("192.0.2.1 is not an address of the lab",)),
        ("rcp-rch-a => rcp-rch-b", ("bad reach rule",)),
    ],
)
def test_bad_input_is_one_line_and_exit_2(three: None, rule: str, fragments: tuple[str]) -> None:
    assert_one_line_error(invoke("reach", *ONLY, "--rule", rule), *fragments)


def test_no_lab_standing_is_one_line(clean_machine: None) -> None:
    done = invoke("reach", "--only", "rcp-rch-nothing-*")
    assert_one_line_error(done, "no lab is standing on local", "recipe run NAME --keep")


def test_a_target_outside_the_lab_is_refused_before_any_probe(three: None) -> None:
    with LocalShell() as shell:
        found = [e for e in reach.endpoints(observe.take(shell)) if e.name in NAMES]
        with pytest.raises(UserError, match="198.51.100.7 is not an address of the lab"):
            reach.check_targets(found, [IP[NAMES[1]], "198.51.100.7"])
        wanted = reach.request(found, [], 1.0)
        wanted["sources"][0]["targets"].append("198.51.100.7")
        with pytest.raises(UserError, match="198.51.100.7 is not an address of the lab"):
            reach.run_prober(shell, "local", wanted)


def test_rule_lines_parse_and_bad_ones_name_themselves() -> None:
    rules = reach_rules.parse(["a -> b: no; * -> c: YES", "on my-bridge: yes"])
    assert [(r.source, r.target, r.network, r.reach) for r in rules] == [
        ("a", "b", "", False),
        ("*", "c", "", True),
        ("", "", "my-bridge", True),
    ]
    with pytest.raises(UserError, match="bad reach rule 'a -> b'"):
        reach_rules.parse(["a -> b"])
