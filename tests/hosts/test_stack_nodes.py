"""Stack nodes (`recipe hosts up --stack`): the stack's own dockerd, ip, iptables and busybox in
real namespaces on this kernel, side by side with this machine's, and nothing left by down."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.hosts import inventory, nsprocs, stack_leases, stack_nodes, stacks
from generator.hosts import nodes as hosts
from generator.hosts import stack_root as roots
from generator.lab import leftovers
from generator.shell.ssh import SSHShell
from generator.shell.ssh_target import resolve

pytestmark = pytest.mark.root
CLI = [sys.executable, "-c", "from generator.cli import main; main()"]


@pytest.fixture
def two_stacks(
    _virtual_nodes_session: None, stack_root: Callable[[str], Path]
) -> Iterator[list[str]]:
    """A node of debian-12 (this machine's userland) and one of debian-13 (the cached trixie
    root), leased for the test and removed after it."""
    stack_root("debian-13")
    with ExitStack() as leased:
        yield [
            name
            for stack in ("debian-12", "debian-13")
            for name in leased.enter_context(stack_leases.leased_nodes(stack, 1))
        ]


def _out(node: str, command: str) -> str:
    with SSHShell(resolve(node)) as shell:
        result = shell.run(command, 60)
    assert result, (command, result.stdout, result.stderr)
    return result.stdout


def _mounts() -> set[str]:
    return {line.split(" - ")[0].split(" ", 4)[4] for line in _mountinfo()}


def _mountinfo() -> list[str]:
    return Path("/proc/self/mountinfo").read_text().splitlines()


def test_a_stack_node_runs_the_stacks_own_userland(two_stacks: list[str]) -> None:
    d12, d13 = two_stacks
    facts = _out(d13, "ip -V; iptables -V; docker version --format '{{.Server.Version}}'")
    assert "iproute2-6.15" in facts and "(nf_tables)" in facts
    assert facts.splitlines()[-1].startswith("26.")
    # Its busybox image is built from the stack's busybox, and `docker exec` lands inside the
    # container (the node pivoted into its root: a chroot would land exec in the host's /).
    inside = _out(
        d13,
        "docker run -d --name probe busybox sleep 300 >/dev/null; "
        "docker exec probe busybox | head -n1; docker exec probe cat /etc/hostname; "
        "docker rm -f probe >/dev/null",
    )
    assert "BusyBox v1.37" in inside
    assert len(inside.splitlines()[1]) == 12  # the container's id, not this machine's name
    # No cable: only loopback and docker0, so labs list what they made and nothing else.
    links = _out(d13, "ip -o link show | cut -d' ' -f2")
    assert links.split() == ["lo:", "docker0:"]
    assert _out(d13, "hostname").strip() == d13
    # The host's userland on the debian-12 node: this machine's versions.
    assert "iproute2-6.1" in _out(d12, "ip -V")


def test_nodes_of_two_stacks_keep_their_names_apart(two_stacks: list[str]) -> None:
    d12, d13 = two_stacks
    before = leftovers.take_local()
    _out(d12, "ip netns add same")
    try:
        _out(d13, "ip netns add same")  # no collision: each node has its registry
        assert "same" in _out(d13, "ip netns list")
        assert leftovers.take_local().added_since(before) == []
    finally:
        for name in two_stacks:
            _out(name, "ip netns delete same 2>/dev/null || true")


def test_the_inventory_names_each_stack_node_with_its_stack(two_stacks: list[str]) -> None:
    d12, d13 = two_stacks
    entries = inventory.load()
    assert entries[d13].stack == "debian-13" and entries[d12].stack == "debian-12"
    assert entries[d13].port != entries[d12].port
    done = subprocess.run([*CLI, "hosts", "status"], capture_output=True, text=True, check=False)
    line = next(x for x in done.stdout.splitlines() if x.startswith(f"{d13} "))
    assert "debian-13  up" in line and "iptables 1.8.11" in line and "(nf_tables)" in line


def test_run_on_a_stack_records_the_stack_and_removes_its_node(
    _virtual_nodes_session: None, stack_root: Callable[[str], Path], tmp_path: Path
) -> None:
    stack_root("debian-13")
    before = set(inventory.load())
    path = tmp_path / "run.transcript"
    done = subprocess.run(
        [*CLI, "run", "veth-pair", "--stack", "debian-13", "--record", str(path), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    facts = tr.read(path).header.facts
    assert facts.distribution.startswith("Debian GNU/Linux 13")
    assert facts.stack == "debian-13"
    assert "(nf_tables)" in facts.iptables and facts.host.startswith("debian-13-")
    assert set(inventory.load()) == before  # a node made for the run is removed after it


def test_down_leaves_no_mount_process_namespace_or_link(
    _virtual_nodes_session: None, stack_root: Callable[[str], Path]
) -> None:
    stack_root("debian-13")
    before = leftovers.take_local()
    states = [
        *hosts.up("debian-12", 1),
        *hosts.up("debian-13", 1),
        *hosts.up("debian-13", pair=True),
    ]
    names = [state.node.name for state in states]
    for name in names:  # things inside each node that down must end too
        with SSHShell(resolve(name)) as shell:
            shell.run("docker run -d --name stays busybox sh -c 'sleep 3000'", 30)
            shell.run("ip netns add inner && ip netns exec inner sleep 300 &", 10)
    made = [n for n in stack_nodes.existing() if n.name in names]
    assert all(hosts.members(node) for node in made)
    assert hosts.down() == []
    root = stacks.cache_dir() / "debian-13"
    assert not [m for m in _mounts() if str(hosts.RUN_ROOT) in m or str(root) in m]
    assert roots.mounts_using(root / "root") == []  # in any process's mount namespace
    assert leftovers.take_local().added_since(before) == []  # links, namespaces, rules
    for node in made:
        assert hosts.members(node) == set()
        netns = node.netns if node.netns.exists() else None
        assert nsprocs.pids_matching(netns, f"/{node.cgroup}/") == set()
        assert not node.netns.exists() and not node.state.exists()
    assert not hosts.RUN_ROOT.exists() and not inventory.state_dir().exists()
    assert (root / "root").is_dir() and (root / "stamp").is_file()  # the cache stays


@pytest.mark.parametrize(
    "argv",
    [
        ("hosts", "up", "--stack", "debian-99"),
        ("run", "veth-pair", "--stack", "centos-7"),
        ("hosts", "up", "--stack", "debian-13", "--nodes", "0"),
        ("hosts", "up", "--pair"),
    ],
)
def test_bad_stack_input_is_one_line_and_exit_2(argv: tuple[str, ...]) -> None:
    done = subprocess.run([*CLI, *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr
    assert len(lines) == 1 and any(w in done.stderr for w in ("debian-12", "--nodes", "--stack"))


def test_a_leased_node_is_not_handed_to_another_command(_virtual_nodes_session: None) -> None:
    with stack_leases.leased_nodes("debian-12", 1) as first:
        with stack_leases.leased_nodes("debian-12", 1) as second:  # another lease, another node
            assert first != second
            states = {state.node.name: state.running for state in hosts.status()}
            assert states[first[0]] and states[second[0]]
        assert second[0] not in inventory.load()  # made for the inner block, removed after it
        assert first[0] in inventory.load()
    assert first[0] not in inventory.load()


def test_a_two_host_lab_runs_on_the_stacks_pair(
    _virtual_nodes_session: None, stack_root: Callable[[str], Path], tmp_path: Path
) -> None:
    stack_root("debian-13")
    before = set(inventory.load())
    path = tmp_path / "vxlan.transcript"
    done = subprocess.run(
        [*CLI, "run", "vxlan", "--stack", "debian-13", "--record", str(path), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    recorded = tr.read(path)
    # Inside, the pair is the walkthrough's docker-node1 and docker-node2, on Debian 13.
    assert recorded.header.facts.host == "docker-node1=docker-node1,docker-node2=docker-node2"
    assert recorded.header.facts.stack == "debian-13"
    assert set(inventory.load()) == before  # the pair made for the run is gone
    assert not (hosts.RUN_ROOT / "debian-13.switch.net").exists()


@pytest.mark.parametrize(
    ("setting", "value", "fragment"),
    [
        ("RECIPE_STACK_MIRROR", "--customize-hook=touch /tmp/rcp-owned", "is not a mirror URL"),
        ("RECIPE_STACK_MIRROR", "deb [trusted=yes] http://127.0.0.1/ trixie main", "mirror URL"),
        ("RECIPE_STACK_CACHE", "/tmp/rcp,upperdir=/etc", "without ',' or ':'"),
        ("RECIPE_STACK_CACHE", "relative/cache", "must be an absolute path"),
    ],
)
def test_a_setting_that_would_inject_is_one_line(setting: str, value: str, fragment: str) -> None:
    import os

    env = {**os.environ, setting: value}
    argv = [*CLI, "hosts", "up", "--stack", "debian-13", "--nodes", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 2 and fragment in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not Path("/tmp/rcp-owned").exists() and "debian-13-1" not in inventory.load()


def test_down_refuses_while_a_command_holds_a_node(_virtual_nodes_session: None) -> None:
    with stack_leases.leased_nodes("debian-12", 1) as names:
        done = subprocess.run([*CLI, "hosts", "down"], capture_output=True, text=True, check=False)
        assert done.returncode == 1 and f"{names[0]}: in use" in done.stderr, done.stderr
        assert names[0] in inventory.load()  # still there for the command that holds it


def test_the_stack_words_of_the_cli_are_the_stacks() -> None:
    from generator.commands.choices import words
    from generator.commands.stack_option import StackName

    assert words(StackName) == stacks.names()


def test_down_keeps_the_cached_roots_and_purge_removes_them(
    _virtual_nodes_session: None, tmp_path: Path
) -> None:
    import os

    cache = tmp_path / "cache"
    where = cache / "debian-13"
    (where / "root" / "etc").mkdir(parents=True)
    (where / "root" / "etc" / "os-release").write_text('VERSION_ID="13"\n')
    (where / "stamp").write_text(stacks.get("debian-13").stamp)
    env = {**os.environ, stacks.CACHE_ENV: str(cache)}
    for argv, kept in ((["hosts", "down"], True), (["hosts", "down", "--purge"], False)):
        done = subprocess.run([*CLI, *argv], capture_output=True, text=True, check=False, env=env)
        assert done.returncode == 0, done.stderr
        assert (where / "root").exists() is kept and (where / "stamp").exists() is kept
    assert "cached stack roots removed" in done.stdout
