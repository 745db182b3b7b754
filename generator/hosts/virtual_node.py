"""One local virtual Docker node: its namespaces, daemons and teardown.
generator/hosts/nodes.py makes the pair and what they share (switch, bridge, keys, inventory).

A node is a network namespace with a veth into the nodes' bridge, plus a mount, UTS and pid
namespace whose init holds the node's hostname, /run/netns, /proc and /sys. In it run a dnsmasq
that knows no names, a dockerd of its own and an sshd on the node's address. Killing the init
ends every process of the node, containers included.

The bridge sits in a namespace of its own, the switch, and every namespace is kept by a bind
mount under RUN_ROOT, not in /run/netns: the nodes add nothing to this machine's `ip netns`,
`ip link` or `brctl show`, so single-host labs read the same whether the nodes are up or not.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.hosts import inventory, node_init, nsprocs
from generator.hosts.nsutil import (
    in_netns,
    make_netns,
    quiet,
    read_pid,
    remove_netns,
    run_checked,
    wait_for,
)

__all__ = ["in_netns", "make_netns", "remove_netns", "run_checked", "wait_for"]

RUN_ROOT = Path("/run/recipe-hosts")
SWITCH = RUN_ROOT / "switch.net"  # the network namespace of the nodes' bridge
SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Node:
    name: str
    address: str
    veth: str  # the host end of the node's cable (the node end is eth0); "" for no cable
    port: int = 22
    stack: str = ""  # the stack's name, for a node of `hosts up --stack`
    lower: Path | None = None  # the stack's cached root; None: this machine's userland
    hostname: str = (
        ""  # what `hostname` says inside; "" for the name (a stack's pair: docker-node1)
    )
    switch: Path = SWITCH  # the namespace of the bridge its cable plugs into

    @property
    def netns(self) -> Path:
        return self.run / "net"

    @property
    def run(self) -> Path:
        return RUN_ROOT / self.name

    @property
    def state(self) -> Path:
        return inventory.state_dir() / self.name

    @property
    def socket(self) -> Path:
        return self.run / "docker.sock"

    @property
    def cgroup(self) -> str:
        return f"recipe-{self.name}"

    @property
    def dns(self) -> str:
        """Where the node's dnsmasq listens: a node without a cable has it on its docker0, as
        scripts/start-docker.sh has it on this machine, so its labs read as this machine's."""
        return self.address if self.veth else "172.17.0.1"


def _sshd_config(node: Node) -> str:
    state = inventory.state_dir()
    return "\n".join(
        [
            "# Written by `recipe hosts up` for this node only.",
            f"Port {node.port}",
            f"ListenAddress {node.address}",
            f"HostKey {node.state / 'ssh_host_ed25519_key'}",
            f"PidFile {node.run / 'sshd.pid'}",
            f"AuthorizedKeysFile {state / 'authorized_keys'}",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "PrintMotd no",
            "AllowUsers root",
            # Sessions talk to this node's engine, not the host's.
            f"SetEnv DOCKER_HOST=unix://{node.socket}",
            "Subsystem sftp internal-sftp",
            "",
        ]
    )


def start(node: Node, bridge: str) -> None:
    """Create the node's namespaces and start its daemons; the caller waits for Docker."""
    node.run.mkdir(parents=True, exist_ok=True)
    (node.run / "netns").mkdir(exist_ok=True)
    node.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_netns(node.netns, node.name)
    if node.veth:
        _cable(node, bridge)
    else:  # reached through its loopback only, from inside its namespace
        run_checked([*in_netns(node.netns), "ip", "link", "set", "lo", "up"], f"{node.name}: lo")
    _write_config(node)
    paths = node_init.InitPaths(
        node.hostname or node.name, node.run, node.state, node.netns, node.lower
    )
    enter = node_init.enter(node_init.start_init(paths), node.lower is not None)
    _start_dnsmasq(node, enter)
    _start_dockerd(node, enter)
    run_checked([*enter, SSHD, "-f", str(node.state / "sshd_config")], f"{node.name}: sshd")


def _cable(node: Node, bridge: str) -> None:
    """A veth from the switch's bridge to the node's eth0, with the node's address on it."""
    switch = in_netns(node.switch)
    peer = ["peer", "name", "eth0", "netns", str(node.netns)]
    run_checked(
        [*switch, "ip", "link", "add", node.veth, "type", "veth", *peer],
        f"creating the cable of {node.name}",
    )
    run_checked(
        [*switch, "ip", "link", "set", node.veth, "master", bridge, "up"],
        f"plugging in {node.name}",
    )
    inside = in_netns(node.netns)
    run_checked([*inside, "ip", "link", "set", "lo", "up"], f"{node.name}: loopback up")
    address = [*inside, "ip", "addr", "add", f"{node.address}/24", "dev", "eth0"]
    run_checked(address, f"{node.name}: address")
    run_checked([*inside, "ip", "link", "set", "eth0", "up"], f"{node.name}: eth0 up")


def _write_config(node: Node) -> None:
    key = node.state / "ssh_host_ed25519_key"
    run_checked(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", node.name, "-f", str(key)],
        f"{node.name}: host key",
    )
    (node.state / "sshd_config").write_text(_sshd_config(node))
    # Names are answered by the node's own dnsmasq, which knows none: no lookup leaves the machine.
    (node.state / "resolv.conf").write_text(f"nameserver {node.dns}\n")


def _start_dnsmasq(node: Node, enter: list[str]) -> None:
    options = ["--no-resolv", "--no-hosts", f"--listen-address={node.dns}"]
    # --bind-dynamic: without a cable, the address is docker0's, there once dockerd is up.
    bind = "--bind-interfaces" if node.veth else "--bind-dynamic"
    pidfile = f"--pid-file={node.run / 'dnsmasq.pid'}"
    run_checked([*enter, "dnsmasq", *options, bind, pidfile], f"{node.name}: dnsmasq")


def _start_dockerd(node: Node, enter: list[str]) -> None:
    """The node's own engine: its data, exec root, socket and pidfile, its dnsmasq as DNS."""
    options = {
        "--data-root": str(node.state / "docker"),
        "--exec-root": str(node.run / "exec"),
        "-H": f"unix://{node.socket}",
        "--pidfile": str(node.run / "docker.pid"),
        "--dns": node.dns,
        "--cgroup-parent": f"/{node.cgroup}",
        "--shutdown-timeout": "2",
    }
    if not node.veth:  # its DNS is on docker0: pin docker0 there, as on this machine
        options["--bip"] = "172.17.0.1/16"
    argv = [*enter, "dockerd", *(part for pair in options.items() for part in pair)]
    with (node.state / "dockerd.log").open("wb") as log:
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def docker_answers(node: Node) -> bool:
    """GET /_ping on the node's socket: cheaper than spawning `docker info` in a poll loop."""
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(str(node.socket))
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


def load_busybox(node: Node, rootfs: bytes) -> None:
    docker = ["docker", "-H", f"unix://{node.socket}"]
    if not quiet([*docker, "image", "inspect", "busybox:latest"]):
        run_checked(
            [*docker, "import", "--change", 'CMD ["sh"]', "-", "busybox:latest"],
            f"{node.name}: importing busybox",
            rootfs,
        )


def members(node: Node) -> set[int]:
    """Host pids of the processes in the node's pid namespace (containers sit in nested ones)."""
    try:
        pidns = (node.run / "pidns.id").read_text()
    except OSError:
        return set()
    return {pid for pid in nsprocs.pids_in_pidns(pidns) if nsprocs.alive(pid)}


def _init(node: Node) -> int | None:
    """The node's init, if alive; checked against its pid namespace, so a recycled pid in a stale
    init.pid is never signalled."""
    pid = read_pid(node.run / "init.pid")
    try:
        pidns = (node.run / "pidns.id").read_text()
    except OSError:
        return None
    return pid if pid is not None and nsprocs.ns_id(f"/proc/{pid}/ns/pid") == pidns else None


def named(node: Node, comm: str) -> list[int]:
    return [pid for pid in members(node) if _comm(pid) == comm]


def stop(node: Node) -> list[str]:
    """End every process of the node, remove its namespace, cable and state; return what
    resisted."""
    problems: list[str] = []
    init = _init(node)
    if init is not None:  # the kernel then kills every process of the pid namespace
        nsprocs.signal_all([init], signal.SIGKILL)
    left = nsprocs.wait_gone(members(node) | ({init} if init else set()), 5.0)
    # Anything else in the node's network namespace or its containers' cgroups, e.g. a process
    # the host started with `nsenter --net=/run/recipe-hosts/docker-node1/net ...`.
    netns = node.netns if node.netns.exists() else None
    for _ in range(3):
        pids = nsprocs.pids_matching(netns, f"/{node.cgroup}/") | left
        if not pids:
            break
        left = nsprocs.terminate(pids)
    if left:
        problems.append(f"{node.name}: processes {sorted(left)} would not die")
    if not remove_netns(node.netns):
        problems.append(f"{node.name}: cannot delete namespace {node.netns}")
    if node.veth and node.switch.exists():  # gone with the node's namespace, unless held
        quiet([*in_netns(node.switch), "ip", "link", "delete", node.veth])
    _remove_cgroups(node)
    shutil.rmtree(node.run, ignore_errors=True)
    shutil.rmtree(node.state, ignore_errors=True)
    return problems


def _remove_cgroups(node: Node) -> None:
    """The engine made /<cgroup>/<container> in each hierarchy; remove the empty directories."""
    for top in Path("/sys/fs/cgroup").glob(f"*/{node.cgroup}"):
        for directory in sorted(top.glob("**/"), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                directory.rmdir()


@dataclass(frozen=True)
class NodeStatus:
    node: Node
    netns: bool
    init: bool
    dockerd: bool
    sshd: bool

    @property
    def running(self) -> bool:
        return self.netns and self.init and self.dockerd and self.sshd


def sshd_running(node: Node) -> bool:
    return bool(named(node, "sshd"))


def node_status(node: Node) -> NodeStatus:
    return NodeStatus(
        node=node,
        netns=node.netns.exists(),
        init=_init(node) is not None,
        dockerd=docker_answers(node),
        sshd=sshd_running(node),
    )
