"""Local virtual Docker nodes: the walkthrough's docker-node1/2 on this machine, without VirtualBox.

Each node is a set of namespaces joined to a private bridge:
- a network namespace with a veth into the bridge and the walkthrough's address;
- a mount, UTS and pid namespace with its own init, hostname and /run/netns, so `ip netns add`
  inside one node neither collides with nor shows in another, and killing the init ends every
  process of the node;
- a dnsmasq that knows no names, so container lookups never leave the machine;
- its own dockerd (own data root, exec root, socket, pidfile), with a busybox image imported;
- an sshd on the node's address, with its own host key, accepting only the tool's key.

`up` and `down` are idempotent; `down` removes processes, namespaces, links, rules and state.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator import inventory, nsprocs
from generator.errors import UserError

BRIDGE = "rcp-lab0"
GATEWAY = "192.168.205.1/24"
RUN_ROOT = Path("/run/recipe-hosts")
LOCK = Path("/run/recipe-hosts.lock")
SSHD = "/usr/sbin/sshd"
SSHD_PRIVSEP = Path("/run/sshd")  # sshd refuses to start without it; Debian creates it at boot
RULE = ["-i", BRIDGE, "-o", BRIDGE, "-m", "comment", "--comment", "recipe-hosts", "-j", "ACCEPT"]


@dataclass(frozen=True)
class Node:
    name: str
    address: str
    veth: str  # the host end of the node's cable; the node end is eth0

    @property
    def netns(self) -> Path:
        return Path("/run/netns") / self.name

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


NODES = (
    Node("docker-node1", "192.168.205.10", "rcp-node1"),
    Node("docker-node2", "192.168.205.11", "rcp-node2"),
)


def client_key() -> Path:
    return inventory.state_dir() / "id_ed25519"


def known_hosts() -> Path:
    return inventory.state_dir() / "known_hosts"


# ---------------------------------------------------------------- helpers


def _run(argv: list[str], what: str, input_: bytes | None = None) -> str:
    done = subprocess.run(argv, input=input_, capture_output=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(f"{what} failed: {detail[-1] if detail else f'exit {done.returncode}'}")
    return done.stdout.decode(errors="replace")


def _quiet(argv: list[str]) -> bool:
    """Run a cleanup command whose failure only means 'already gone'."""
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def _link_exists(name: str) -> bool:
    return _quiet(["ip", "link", "show", "dev", name])


def _read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if nsprocs.alive(pid) else None


def _wait(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise UserError(f"{what} did not come up within {seconds:g} s")


@contextmanager
def _locked() -> Iterator[None]:
    """One `hosts up/down` at a time on this machine."""
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def missing_tools() -> list[str]:
    """What this machine lacks to run the nodes (Debian packages: iproute2, util-linux,
    docker.io, openssh-server, dnsmasq-base, iptables, busybox-static)."""
    tools = ("ip", "nsenter", "unshare", "dockerd", "docker", "ssh-keygen", "iptables", "dnsmasq")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    return missing + [path for path in (SSHD, "/bin/busybox") if not Path(path).exists()]


def _require_root() -> None:
    if os.geteuid() != 0:
        raise UserError("recipe hosts needs root: it creates namespaces, links and daemons")
    missing = missing_tools()
    if missing:
        raise UserError(f"recipe hosts needs {', '.join(missing)}; install them first")


# ---------------------------------------------------------------- the shared parts


def _keys() -> None:
    """The tool's client key, authorized for these nodes only (never in anyone's ~/.ssh)."""
    state = inventory.state_dir()
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = client_key()
    if not key.exists():
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "recipe-hosts", "-f", str(key)],
             "generating the tool's SSH key")
    (state / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    (state / "authorized_keys").chmod(0o600)


def _bridge() -> None:
    if not _link_exists(BRIDGE):
        _run(["ip", "link", "add", BRIDGE, "type", "bridge"], f"creating bridge {BRIDGE}")
        _run(["ip", "addr", "add", GATEWAY, "dev", BRIDGE], f"addressing {BRIDGE}")
    _run(["ip", "link", "set", BRIDGE, "up"], f"bringing {BRIDGE} up")
    # Docker's FORWARD DROP policy with br_netfilter drops traffic between bridge ports, here
    # node to node; allow it on our bridge only, and take the rule out again in `down`.
    chain = "DOCKER-USER" if _quiet(["iptables", "-w", "-S", "DOCKER-USER"]) else "FORWARD"
    if not _quiet(["iptables", "-w", "-C", chain, *RULE]):
        _run(["iptables", "-w", "-I", chain, *RULE], "allowing traffic between the nodes")
    if not SSHD_PRIVSEP.exists():
        SSHD_PRIVSEP.mkdir(mode=0o755)
        (inventory.state_dir() / "created-run-sshd").touch()


def _remove_shared() -> None:
    for chain in ("DOCKER-USER", "FORWARD"):
        while _quiet(["iptables", "-w", "-D", chain, *RULE]):
            pass
    if _link_exists(BRIDGE):
        _quiet(["ip", "link", "delete", BRIDGE])
    state = inventory.state_dir()
    if (state / "created-run-sshd").exists() and not any(_sshd_running(n) for n in NODES):
        shutil.rmtree(SSHD_PRIVSEP, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(RUN_ROOT, ignore_errors=True)
    try:  # /var/lib/recipe, when `up` made it and nothing else lives there
        state.parent.rmdir()
    except OSError:
        pass


# ---------------------------------------------------------------- one node

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
    return "\n".join([
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
    ])


def _start_node(node: Node) -> None:
    """Create the node's namespaces and start its daemons; the caller waits for Docker."""
    node.run.mkdir(parents=True, exist_ok=True)
    (node.run / "netns").mkdir(exist_ok=True)
    node.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    _run(["ip", "netns", "add", node.name], f"creating namespace {node.name}")
    _run(["ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0",
          "netns", node.name], f"creating the cable of {node.name}")
    _run(["ip", "link", "set", node.veth, "master", BRIDGE, "up"], f"plugging {node.name} in")
    inside = ["ip", "netns", "exec", node.name]
    _run([*inside, "ip", "link", "set", "lo", "up"], f"{node.name}: loopback up")
    _run([*inside, "ip", "addr", "add", f"{node.address}/24", "dev", "eth0"], f"{node.name}: address")
    _run([*inside, "ip", "link", "set", "eth0", "up"], f"{node.name}: eth0 up")

    key = node.state / "ssh_host_ed25519_key"
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", node.name, "-f", str(key)],
         f"{node.name}: host key")
    (node.state / "sshd_config").write_text(_sshd_config(node))
    # Names are answered by the node's own dnsmasq, which knows none: no lookup leaves the machine.
    (node.state / "resolv.conf").write_text(f"nameserver {node.address}\n")

    init = _start_init(node)
    enter = ["nsenter", f"--target={init}", "--net", "--mount", "--uts", "--pid", "--"]
    _run([*enter, "dnsmasq", "--no-resolv", "--no-hosts", f"--listen-address={node.address}",
          "--bind-interfaces", f"--pid-file={node.run / 'dnsmasq.pid'}"], f"{node.name}: dnsmasq")
    with (node.state / "dockerd.log").open("wb") as log:
        subprocess.Popen(
            [*enter, "dockerd", "--data-root", str(node.state / "docker"),
             "--exec-root", str(node.run / "exec"), "-H", f"unix://{node.socket}",
             "--pidfile", str(node.run / "docker.pid"), "--dns", node.address,
             "--cgroup-parent", f"/{node.cgroup}", "--shutdown-timeout", "2"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
    _run([*enter, SSHD, "-f", str(node.state / "sshd_config")], f"{node.name}: sshd")


def _start_init(node: Node) -> int:
    """Start the node's init in new mount, UTS and pid namespaces; return its pid on the host."""
    ready = node.run / "init.ready"
    parent = subprocess.Popen(
        ["nsenter", f"--net={node.netns}", "unshare", "--mount", "--uts", "--pid", "--fork",
         "--mount-proc", "--propagation", "private",
         "sh", "-c", _INIT, "init", node.name, str(node.run / "netns"),
         str(node.state / "resolv.conf"), str(ready), str(node.run / "cgroup")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    _wait(lambda: ready.exists() or parent.poll() is not None, 5, f"{node.name}'s namespaces")
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


def _docker_answers(node: Node) -> bool:
    """GET /_ping on the node's socket: cheaper than spawning `docker info` in a poll loop."""
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(str(node.socket))
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


def _busybox_rootfs() -> bytes:
    """The same offline busybox image `recipe image build busybox` makes on the host."""
    from generator import images

    binary = images.busybox_binary()
    return images.rootfs_tar(binary, images.applet_paths(binary))


def _load_busybox(node: Node, rootfs: bytes) -> None:
    docker = ["docker", "-H", f"unix://{node.socket}"]
    if not _quiet([*docker, "image", "inspect", "busybox:latest"]):
        _run([*docker, "import", "--change", 'CMD ["sh"]', "-", "busybox:latest"],
             f"{node.name}: importing busybox", rootfs)


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
    pid = _read_pid(node.run / "init.pid")
    try:
        pidns = (node.run / "pidns.id").read_text()
    except OSError:
        return None
    return pid if pid is not None and nsprocs.ns_id(f"/proc/{pid}/ns/pid") == pidns else None


def _named(node: Node, comm: str) -> list[int]:
    return [pid for pid in members(node) if _comm(pid) == comm]


def _stop_node(node: Node) -> list[str]:
    """End everything of the node and remove its namespace, cable and state; return what resisted."""
    problems: list[str] = []
    init = _init(node)
    if init is not None:  # the kernel then kills every process of the pid namespace
        nsprocs.signal_all([init], signal.SIGKILL)
    left = nsprocs.wait_gone(members(node) | ({init} if init else set()), 5.0)
    # Anything else in the node's network namespace or its containers' cgroups, e.g. a process
    # the host started with `ip netns exec docker-node1 ...`.
    netns = node.netns if node.netns.exists() else None
    for _ in range(3):
        pids = nsprocs.pids_matching(netns, f"/{node.cgroup}/") | left
        if not pids:
            break
        left = nsprocs.terminate(pids)
    if left:
        problems.append(f"{node.name}: processes {sorted(left)} would not die")
    if node.netns.exists() and not _quiet(["ip", "netns", "delete", node.name]):
        problems.append(f"{node.name}: cannot delete namespace {node.netns}")
    if _link_exists(node.veth):
        _quiet(["ip", "link", "delete", node.veth])
    _remove_cgroups(node)
    shutil.rmtree(node.run, ignore_errors=True)
    shutil.rmtree(node.state, ignore_errors=True)
    return problems


def _remove_cgroups(node: Node) -> None:
    """The engine made /<cgroup>/<container> in each hierarchy; remove the empty directories."""
    for top in Path("/sys/fs/cgroup").glob(f"*/{node.cgroup}"):
        for directory in sorted(top.glob("**/"), key=lambda p: len(p.parts), reverse=True):
            try:
                directory.rmdir()
            except OSError:
                pass


# ---------------------------------------------------------------- status


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


def _sshd_running(node: Node) -> bool:
    return bool(_named(node, "sshd"))


def node_status(node: Node) -> NodeStatus:
    return NodeStatus(
        node=node,
        netns=node.netns.exists(),
        init=_init(node) is not None,
        dockerd=_docker_answers(node),
        sshd=_sshd_running(node),
    )


def status() -> list[NodeStatus]:
    return [node_status(node) for node in NODES]


# ---------------------------------------------------------------- up / down


def up() -> list[NodeStatus]:
    """Make both nodes; a node already fully running is left alone, a broken one is remade."""
    _require_root()
    with _locked():
        try:
            _up()
        except BaseException:
            _down()  # never leave half a node behind, also on Ctrl-C
            raise
    return status()


def _up() -> None:
    _keys()
    _bridge()
    started = []
    for node in NODES:
        if node_status(node).running:
            continue
        _stop_engines((node,))
        _stop_node(node)
        _start_node(node)
        started.append(node)
    if started:
        rootfs = _busybox_rootfs()
        for node in started:
            _wait(lambda n=node: _docker_answers(n), 30,
                  f"{node.name}'s Docker engine (log: {node.state / 'dockerd.log'})")
            _load_busybox(node, rootfs)
    _write_inventory()


def _write_inventory() -> None:
    lines = []
    for node in NODES:
        key = (node.state / "ssh_host_ed25519_key.pub").read_text().split()
        lines.append(f"{node.name},{node.address} {key[0]} {key[1]}\n")
    known_hosts().write_text("".join(lines))
    inventory.write([
        inventory.HostEntry(
            name=node.name, address=node.address, user="root", port=22,
            identity=str(client_key()), known_hosts=str(known_hosts()),
        )
        for node in NODES
    ])


def down() -> list[str]:
    """Remove both nodes and everything shared; return problems that remain (normally none)."""
    _require_root()
    with _locked():
        return _down()


def _stop_engines(nodes: tuple[Node, ...]) -> None:
    """A clean stop lets each dockerd stop its containers and unmount; the engines stop together."""
    pids = [pid for node in nodes for pid in _named(node, "dockerd")]
    nsprocs.signal_all(pids, signal.SIGTERM)
    nsprocs.wait_gone(pids, 8.0)  # whatever is left dies with the node's init


def _down() -> list[str]:
    problems: list[str] = []
    _stop_engines(NODES)
    for node in NODES:
        problems += _stop_node(node)
    _remove_shared()
    return problems
