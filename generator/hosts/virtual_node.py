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
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError
from generator.hosts import inventory, nsprocs

RUN_ROOT = Path("/run/recipe-hosts")
SWITCH = RUN_ROOT / "switch.net"  # the network namespace of the nodes' bridge
SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Node:
    name: str
    address: str
    veth: str  # the host end of the node's cable; the node end is eth0

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


# ---------------------------------------------------------------- helpers


def run_checked(argv: list[str], what: str, input_: bytes | None = None) -> str:
    done = subprocess.run(argv, input=input_, capture_output=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(f"{what} failed: {detail[-1] if detail else f'exit {done.returncode}'}")
    return done.stdout.decode(errors="replace")


def quiet(argv: list[str]) -> bool:
    """Run a cleanup command whose failure only means 'already gone'."""
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def in_netns(path: Path) -> list[str]:
    return ["nsenter", f"--net={path}", "--"]


def make_netns(path: Path, what: str) -> None:
    """A new network namespace, kept by a bind mount on path (as `ip netns add` does in
    /run/netns)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    run_checked(["unshare", f"--net={path}", "true"], f"creating the namespace of {what}")


def remove_netns(path: Path) -> bool:
    """Unmount and remove a namespace made by make_netns; False when it stays mounted."""
    if not path.exists():
        return True
    quiet(["umount", str(path)])
    try:
        path.unlink()
    except OSError:
        return False
    return True


def read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if nsprocs.alive(pid) else None


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise UserError(f"{what} did not come up within {seconds:g} s")


# Runs as pid 1 of the node's pid namespace. Killing it ends every process of the node, also
# those that left its network or mount namespace (`ip netns exec` inside a node, containers).
_INIT = r"""
set -e
hostname "$1"
# The copied mount table holds bind mounts of other namespaces (other nodes, the host's Docker
# containers). Drop them here, or they would keep those namespaces alive as long as this node.
grep ' - nsfs ' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do
  umount -l "$m" 2>/dev/null || true
done
umount -l /run/netns 2>/dev/null || true
mount --bind "$2" /run/netns
mount --bind "$3" /etc/resolv.conf
# A /sys of this network namespace, so brctl and /sys/class/net show the node's interfaces, not
# the host's; the cgroup mounts move over into it, since dockerd needs them (unlike after
# `ip netns exec`, which remounts /sys without them).
mkdir -p "$5"
mount --rbind /sys/fs/cgroup "$5"
mount -t sysfs sysfs /sys
mount --move "$5" /sys/fs/cgroup
: > "$4"
# As init, reap the orphans that daemons leave behind (dash's wait reaps any child).
while :; do sleep 3600 & wait; done
"""


def _sshd_config(node: Node) -> str:
    state = inventory.state_dir()
    return "\n".join(
        [
            "# Written by `recipe hosts up` for this node only.",
            "Port 22",
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
    _cable(node, bridge)
    _write_config(node)
    init = _start_init(node)
    enter = ["nsenter", f"--target={init}", "--net", "--mount", "--uts", "--pid", "--"]
    _start_dnsmasq(node, enter)
    _start_dockerd(node, enter)
    run_checked([*enter, SSHD, "-f", str(node.state / "sshd_config")], f"{node.name}: sshd")


def _cable(node: Node, bridge: str) -> None:
    """A veth from the switch's bridge to the node's eth0, with the node's address on it."""
    switch = in_netns(SWITCH)
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
    (node.state / "resolv.conf").write_text(f"nameserver {node.address}\n")


def _start_dnsmasq(node: Node, enter: list[str]) -> None:
    options = ["--no-resolv", "--no-hosts", f"--listen-address={node.address}"]
    pidfile = f"--pid-file={node.run / 'dnsmasq.pid'}"
    run_checked(
        [*enter, "dnsmasq", *options, "--bind-interfaces", pidfile], f"{node.name}: dnsmasq"
    )


def _start_dockerd(node: Node, enter: list[str]) -> None:
    """The node's own engine: its data, exec root, socket and pidfile, its dnsmasq as DNS."""
    options = {
        "--data-root": str(node.state / "docker"),
        "--exec-root": str(node.run / "exec"),
        "-H": f"unix://{node.socket}",
        "--pidfile": str(node.run / "docker.pid"),
        "--dns": node.address,
        "--cgroup-parent": f"/{node.cgroup}",
        "--shutdown-timeout": "2",
    }
    argv = [*enter, "dockerd", *(part for pair in options.items() for part in pair)]
    with (node.state / "dockerd.log").open("wb") as log:
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )


def _start_init(node: Node) -> int:
    """Start the node's init in new mount, UTS and pid namespaces; return its pid on the host."""
    ready = node.run / "init.ready"
    unshare = ["unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc"]
    args = [node.name, str(node.run / "netns"), str(node.state / "resolv.conf"), str(ready)]
    parent = subprocess.Popen(
        [
            *["nsenter", f"--net={node.netns}", *unshare, "--propagation", "private"],
            *["sh", "-c", _INIT, "init", *args, str(node.run / "cgroup")],
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_for(lambda: ready.exists() or parent.poll() is not None, 5, f"{node.name}'s namespaces")
    children = _children(parent.pid)
    if parent.poll() is not None or not children:
        err = parent.stderr.read().decode(errors="replace").strip() if parent.stderr else ""
        raise UserError(f"{node.name}: setting up its namespaces failed: {err or 'no message'}")
    init = children[0]
    (node.run / "init.pid").write_text(f"{init}\n")
    (node.run / "pidns.id").write_text(str(nsprocs.ns_id(f"/proc/{init}/ns/pid")))
    return init


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


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
    if SWITCH.exists():  # gone with the node's namespace, unless something still holds that
        quiet([*in_netns(SWITCH), "ip", "link", "delete", node.veth])
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
