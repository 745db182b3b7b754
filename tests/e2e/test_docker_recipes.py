"""The Docker recipes, rendered and run for real with `bash lab.sh` against the local engine.

Each test renders a script the way a user does, runs it as root, and checks what it printed:
that containers reach each other, that the veth pairing is what the script says, that --link
wrote /etc/hosts and that names resolve on a user-defined bridge. The fixtures check that
nothing is left behind, also when a step fails.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.hosts import images

CLI = [sys.executable, "-c", "from generator.cli import main; main()"]
LAB_TIMEOUT = 240


@pytest.fixture(scope="session")
def busybox(docker_engine: None) -> str:
    """The image the recipes use by default, built offline when it is missing."""
    images.ensure_image("busybox:latest")
    return "busybox"


def _local_addresses() -> set[ipaddress.IPv4Address]:
    out = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, check=True)
    return {ipaddress.IPv4Interface(m).ip for m in re.findall(r"inet (\S+)", out.stdout)}


@pytest.fixture(scope="session")
def local_dns(busybox: str, machine: None) -> None:
    """Skip unless container name lookups stay on this machine.

    A failing lookup (ping test1 without a link) goes to the resolver in the container's
    resolv.conf. When that is not on this machine (dockerd started without --dns pointing at a
    local resolver, see scripts/start-docker.sh), the query would leave the machine: skip.
    """
    done = images.docker("run", "--rm", busybox, "cat", "/etc/resolv.conf")
    servers = re.findall(r"^nameserver\s+(\S+)", done.stdout.decode(), re.MULTILINE)
    local = _local_addresses()
    outside = [
        s
        for s in servers
        if not ipaddress.ip_address(s).is_loopback and ipaddress.ip_address(s) not in local
    ]
    if done.returncode != 0 or not servers or outside:
        pytest.skip(
            f"containers resolve names through {servers or 'nothing'}, not a resolver on "
            "this machine; start Docker with scripts/start-docker.sh"
        )


def render(tmp_path: Path, name: str, *args: str) -> Path:
    done = subprocess.run(
        [*CLI, "render", name, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    script = tmp_path / "lab.sh"
    script.write_text(done.stdout)
    return script


def run_lab(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=LAB_TIMEOUT,
        cwd=script.parent,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_ok(tmp_path: Path, name: str, *args: str) -> str:
    done = run_lab(render(tmp_path, name, *args))
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"bash lab.sh exited {done.returncode}:\n{output[-4000:]}"
    return output


def no_container(name: str) -> bool:
    return images.docker("container", "inspect", name).returncode != 0


def test_container_netns_shows_isolated_interfaces_and_pings_by_ip(
    busybox: str, clean_machine: None, tmp_path: Path
) -> None:
    output = run_ok(tmp_path, "container-netns")
    # The container's own namespace: lo and eth0 paired with a host interface.
    assert re.search(r"^\d+: eth0@if\d+:", output, re.MULTILINE)
    assert re.search(r"^\d+: docker0:", output, re.MULTILINE)  # the host's `ip a`
    found = re.search(r"test1 has (\S+), test2 has (\S+)", output)
    assert found, output
    ip1, ip2 = (ipaddress.ip_address(a.rstrip(",")) for a in found.groups())
    assert ip1 != ip2
    assert f"--- {ip2} ping statistics ---" in output and f"--- {ip1} ping statistics ---" in output
    assert output.count(" 0% packet loss") == 2
    assert no_container("test1") and no_container("test2")


def _pairing(output: str, container: str) -> tuple[int, str, int]:
    """(host ifindex, host veth name, the container-side index the veth points back to)."""
    said = re.search(rf"{container}:eth0 is paired with host interface (\d+): (\S+)", output)
    assert said, output
    index, veth = int(said.group(1)), said.group(2)
    host = re.search(
        rf"^{index}: {re.escape(veth)}@if(\d+): .* master docker0 ", output, re.MULTILINE
    )
    assert host, f"no `ip link show {veth}` line with master docker0:\n{output}"
    return index, veth, int(host.group(1))


def test_docker_bridge_shows_each_eth0_paired_with_a_veth_on_docker0(
    busybox: str, clean_machine: None, tmp_path: Path
) -> None:
    output = run_ok(tmp_path, "docker-bridge")
    host1, veth1, back1 = _pairing(output, "test1")
    # The container printed its side as `N: eth0@ifM`: N is what the host veth points back
    # to, and M is the host veth's own index. Both directions must agree.
    assert re.search(rf"^{back1}: eth0@if{host1}:", output, re.MULTILINE), output
    host2, veth2, _ = _pairing(output, "test2")
    assert veth1.startswith("veth") and veth2.startswith("veth") and veth1 != veth2
    assert host1 != host2
    # The last brctl step lists both veths as ports of docker0.
    tail = output[output.rindex("master docker0") :]
    assert veth1 in tail and veth2 in tail
    assert '"Name": "test2"' in output[output.index(f"{host1}: {veth1}@") :]  # inspect after re-run
    assert no_container("test1") and no_container("test2")


def test_container_link_fails_by_name_then_link_writes_etc_hosts(
    busybox: str, local_dns: None, clean_machine: None, tmp_path: Path
) -> None:
    output = run_ok(tmp_path, "container-link")
    # Before the link: busybox cannot resolve test1 (our resolver refuses unknown names).
    assert "ping: bad address 'test1'" in output
    # --link wrote test1's address, name and id into test2's /etc/hosts ...
    hosts = re.search(r"^(\d+\.\d+\.\d+\.\d+)\s+test1\s+[0-9a-f]{12}$", output, re.MULTILINE)
    assert hosts, output
    # ... and the ping by name goes to exactly that address.
    assert f"PING test1 ({hosts.group(1)})" in output
    assert (
        "--- test1 ping statistics ---\n3 packets transmitted, 3 packets received, 0% packet loss"
        in output
    )
    # The link is one-way.
    assert "ping: bad address 'test2'" in output
    assert no_container("test1") and no_container("test2")


def _network_absent(name: str) -> bool:
    return images.docker("network", "inspect", name).returncode != 0


def test_custom_bridge_busybox_containers_resolve_each_other_by_name(
    busybox: str, local_dns: None, clean_machine: None, tmp_path: Path
) -> None:
    output = run_ok(tmp_path, "custom-bridge")
    assert re.search(r"^br-[0-9a-f]{12}\s", output, re.MULTILINE)  # brctl shows the new bridge
    assert "nameserver 127.0.0.11" in output  # Docker's embedded DNS
    # What really happens with busybox 1.35 (the walkthrough says it fails): every container
    # resolves every other one by name on my-bridge, to an address on my-bridge's subnet.
    subnet = re.search(r'"Subnet": "([0-9./]+)"', output)
    assert subnet, output
    net = ipaddress.ip_network(subnet.group(1))
    pings = re.findall(r"^PING (test\d) \((\S+)\):", output, re.MULTILINE)
    assert [name for name, _ in pings] == [
        "test2",
        "test3",
        "test2",
        "test3",
        "test1",
        "test3",
        "test1",
        "test2",
    ]
    assert all(ipaddress.ip_address(addr) in net for _, addr in pings), pings
    assert output.count(" 0% packet loss") == 8 and "bad address" not in output
    assert all(no_container(c) for c in ("test1", "test2", "test3"))
    assert _network_absent("my-bridge")


def test_custom_bridge_takes_its_names_from_parameters(
    busybox: str, local_dns: None, clean_machine: None, tmp_path: Path
) -> None:
    output = run_ok(
        tmp_path,
        "custom-bridge",
        "--set",
        "network=rcp-net",
        "--set",
        "c1=rcp-a",
        "--set",
        "c2=rcp-b",
        "--set",
        "c3=rcp-c",
        "--set",
        "count=1",
    )
    pings = re.findall(r"^PING (\S+) \(", output, re.MULTILINE)
    assert sorted(set(pings)) == ["rcp-a", "rcp-b", "rcp-c"]
    assert output.count("1 packets transmitted, 1 packets received, 0% packet loss") == 8
    assert _network_absent("rcp-net") and _network_absent("my-bridge")


def test_a_failing_step_still_tears_everything_down(
    busybox: str, clean_machine: None, tmp_path: Path
) -> None:
    # Make `docker network create` fail half-way through: the network already exists.
    made = images.docker("network", "create", "-d", "bridge", "my-bridge")
    assert made.returncode == 0, made.stderr
    try:
        done = run_lab(render(tmp_path, "custom-bridge"))
    finally:
        images.docker("network", "rm", "my-bridge")
    assert done.returncode != 0
    assert "already exists" in done.stderr
    # The containers started before the failure are gone; clean_machine checks the rest.
    assert no_container("test1") and no_container("test2")


@pytest.mark.parametrize(
    "name", ["container-netns", "docker-bridge", "container-link", "custom-bridge"]
)
@pytest.mark.parametrize("flags", [(), ("--sudo",), ("--no-teardown",)])
def test_rendered_scripts_pass_shellcheck(
    name: str, flags: tuple[str, ...], tmp_path: Path
) -> None:
    if subprocess.run(["which", "shellcheck"], capture_output=True, check=False).returncode:
        pytest.skip("needs shellcheck")
    script = render(tmp_path, name, *flags)
    done = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    if "--sudo" in flags:
        assert "sudo docker run -d --name test1" in script.read_text()
