"""The namespace recipes (netns-basics, ping-telnet, linux-bridge, bridge-nat), run for real as
root.

Each lab is rendered as a user renders it and run twice over: with `bash lab.sh`, checking what it
printed, and with `recipe run`, which checks every step's #@ expectations. The clean_machine
fixture fails a test that leaves a namespace, link, container, network or iptables rule behind.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.hosts import images
from generator.recipes import catalog as recipes
from generator.recipes.render import render_script

CLI = [sys.executable, "-c", "from generator.cli import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


def render(tmp_path: Path, name: str, **overrides: str) -> Path:
    recipe = recipes.load(name)
    script = tmp_path / "lab.sh"
    script.write_text(render_script(recipe, recipes.resolve(recipe, overrides)))
    return script


def bash(script: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=timeout, check=False
    )


def run_steps(name: str, *sets: str, failures: int = 0, timeout: float = 300) -> None:
    """`recipe run NAME`: every step (teardown too) meets its #@ expectations, and exactly
    `failures` of them are steps that must fail."""
    args = [*CLI, "run", name, "--no-record", "--quiet", "--json"]
    for pair in sets:
        args += ["--set", pair]
    done = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["status"] == "passed" and summary["complete"], summary
    assert summary["leftovers"] == [], summary
    steps = summary["steps"] + summary["teardown_steps"]
    assert summary["verdicts"] == {"ok": steps - failures, "expected-failure": failures, "FAIL": 0}


def processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue  # the process ended while we looked
    return found


@pytest.fixture(scope="module")
def busybox(docker_engine: None) -> str:
    images.ensure_image("busybox:latest")  # built offline from /bin/busybox when missing
    return "busybox"


def test_netns_basics_shows_a_lone_down_loopback(tmp_path: Path, clean_machine: None) -> None:
    done = bash(render(tmp_path, "netns-basics"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^1: lo: <LOOPBACK> .*state DOWN", out, re.MULTILINE)
    assert not re.search(r"^2: ", out, re.MULTILINE), "a fresh namespace holds more than lo"
    assert re.search(r"^1: lo: <LOOPBACK,UP,LOWER_UP> .*state UNKNOWN", out, re.MULTILINE)


def test_netns_basics_step_by_step(clean_machine: None) -> None:
    run_steps("netns-basics")


def test_ping_telnet_reachable_is_not_available(tmp_path: Path, clean_machine: None) -> None:
    pwned = tmp_path / "pwned"
    # The banner is the recipe's free-text parameter: shell in it must reach nc as plain text.
    banner = f"hi $(touch {pwned}) `touch {pwned}`; touch {pwned} #"
    done = bash(render(tmp_path, "ping-telnet", banner=banner))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "3 packets transmitted, 3 received, 0% packet loss" in out
    assert "3 packets transmitted, 0 received, 100% packet loss" in out
    assert banner + "\n" in done.stdout, "the open port did not answer with the banner"
    assert "Connection refused" in done.stderr
    assert not pwned.exists(), "a command inside the banner ran"
    assert processes_mentioning(banner) == [], "the TCP service outlived the teardown"


def test_ping_telnet_step_by_step(clean_machine: None) -> None:
    run_steps("ping-telnet", failures=2)  # the unused address and the closed port


def test_linux_bridge_default(tmp_path: Path, clean_machine: None) -> None:
    done = bash(render(tmp_path, "linux-bridge"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("1 packets transmitted, 1 received, 0% packet loss") == 2


def learned_ports(output: str, bridge: str = "br0") -> set[str]:
    """Bridge ports with a MAC address the bridge learned from traffic (not its own, permanent)."""
    return set(re.findall(rf"^\S+ dev (\S+) master {bridge} $", output, re.MULTILINE))


def test_linux_bridge_at_n_100_pings_cross_the_bridge(tmp_path: Path, clean_machine: None) -> None:
    script = render(tmp_path, "linux-bridge", n="100")
    done = bash(script, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("1 packets transmitted, 1 received, 0% packet loss") == 100
    # Each namespace's only interface is its veth into the bridge, so each ping crossed it;
    # the bridge's forwarding table proves it learned a sender behind every one of its ports.
    assert learned_ports(done.stdout) == {f"veth-test{i}" for i in range(1, 101)}


def docker_drops_bridged_frames() -> bool:
    """Docker's FORWARD DROP policy and br_netfilter together: the case the recipe's rule is for."""
    knob = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")
    policy = subprocess.run(
        ["iptables", "-w", "-S", "FORWARD"], capture_output=True, text=True, check=False
    )
    return knob.is_file() and knob.read_text().strip() == "1" and "-P FORWARD DROP" in policy.stdout


def test_linux_bridge_needs_its_accept_rule(tmp_path: Path, clean_machine: None) -> None:
    """The recipe's comment says the ACCEPT rule is what lets the namespaces talk: without that
    one step, the same script loses every ping (and still tears everything down)."""
    if not docker_drops_bridged_frames():
        pytest.skip("bridged frames are not filtered here (no FORWARD DROP with br_netfilter)")
    script = render(tmp_path, "linux-bridge")
    text = script.read_text()
    rule = 'iptables -w -I "$chain" -i br0 -o br0 -j ACCEPT\n'
    assert text.count(rule) == 1
    script.write_text(text.replace(rule, ": the ACCEPT rule is left out\n"))
    done = bash(script)
    assert done.returncode != 0
    assert "1 packets transmitted, 0 received, 100% packet loss" in done.stdout


def test_linux_bridge_nat_rules_come_and_go(tmp_path: Path, clean_machine: None) -> None:
    done = bash(render(tmp_path, "linux-bridge", nat="true", n="3"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "-A POSTROUTING -s 172.30.0.0/24 ! -o br0 -j MASQUERADE" in done.stdout
    assert done.stdout.count("0% packet loss") == 3
    rules = subprocess.run(
        ["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True, check=True
    )
    assert "172.30.0.0/24" not in rules.stdout


def test_linux_bridge_step_by_step_with_nat(clean_machine: None) -> None:
    run_steps("linux-bridge", "nat=true")


def test_bridge_nat_capture_shows_the_translated_source(
    tmp_path: Path, busybox: str, clean_machine: None
) -> None:
    done = bash(render(tmp_path, "bridge-nat"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" in done.stdout
    assert "0% packet loss" in done.stdout
    sources = re.findall(r" IP (\S+) > 203\.0\.113\.10: ICMP echo request", done.stdout)
    assert len(sources) == 2, done.stdout
    assert set(sources) == {"203.0.113.1"}, "the outside host saw an untranslated source"


def test_bridge_nat_step_by_step(busybox: str, clean_machine: None) -> None:
    run_steps("bridge-nat")


@pytest.fixture
def decoy_route() -> Iterator[None]:
    """A more specific route to the outside address through another device (a veth pair of our
    own; this kernel may lack the dummy module): packets there would not go through the lab's
    uplink, so bridge-nat must refuse to send any."""
    subprocess.run(
        ["ip", "link", "add", "rcp-decoy0", "type", "veth", "peer", "name", "rcp-decoy1"],
        check=True,
    )
    try:
        for end in ("rcp-decoy0", "rcp-decoy1"):
            subprocess.run(["ip", "link", "set", end, "up"], check=True)
        subprocess.run(["ip", "route", "add", "203.0.113.10/32", "dev", "rcp-decoy0"], check=True)
        yield
    finally:
        subprocess.run(["ip", "link", "delete", "rcp-decoy0"], check=False)


def test_bridge_nat_stops_before_sending_when_the_route_leads_elsewhere(
    tmp_path: Path, clean_machine: None, decoy_route: None
) -> None:
    done = bash(render(tmp_path, "bridge-nat"))
    assert done.returncode != 0
    assert "dev rcp-decoy0" not in done.stdout  # grep printed nothing: the check failed
    assert "PING" not in done.stdout + done.stderr, "a ping started despite the wrong route"
    # `docker run -d` prints the new container's id; it must never have run.
    assert not re.search(r"^[0-9a-f]{64}$", done.stdout, re.MULTILINE), "a container was started"


def test_show_prints_each_recipes_topology() -> None:
    expected = {
        "netns-basics": ["node     test1 (netns)", "node     test2 (netns)"],
        "ping-telnet": [
            "link     client:veth-client <-> server:veth-server (veth)",
            "address  server:veth-server 192.168.90.2/24",
        ],
        "linux-bridge": [
            "node     br0 (bridge)",
            "link     br0:veth-test2 <-> test2:eth0 (veth)",
            "address  host:br0 172.30.0.1/24",
            "rule     iptables -t filter -I DOCKER-USER -i br0 -o br0 -j ACCEPT",
        ],
        "bridge-nat": [
            "node     outside (netns)",
            "address  host:veth-uplink 203.0.113.1/24",
            "address  outside:eth0 203.0.113.10/24",
        ],
    }
    for name, lines in expected.items():
        done = subprocess.run(
            [*CLI, "show", name], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "Topology (with default parameters):" in done.stdout
        for line in lines:
            assert f"  {line}\n" in done.stdout, (name, line, done.stdout)
