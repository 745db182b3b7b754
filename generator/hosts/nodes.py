"""Local virtual Docker nodes: the walkthrough's docker-node1/2 on this machine, without VirtualBox.

This module makes the pair and what they share: the switch (a network namespace holding the
nodes' bridge and the address 192.168.205.1, from which the tool connects), the tool's SSH key
and the inventory; generator/hosts/virtual_node.py makes one node. Nothing of it shows in this
machine's own network namespace. Each node is a set of namespaces joined to the private bridge:
- a network namespace with a veth into the bridge and the walkthrough's address;
- a mount, UTS and pid namespace with its own init, hostname and /run/netns, so `ip netns add`
  inside one node neither collides with nor shows in another, and killing the init ends every
  process of the node;
- a dnsmasq that knows no names, so container lookups never leave the machine;
- its own dockerd (own data root, exec root, socket, pidfile), with a busybox image imported;
- an sshd on the node's address, with its own host key, accepting only the tool's key.

`up` and `down` are idempotent; `down` removes processes, namespaces, links and state.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from generator.errors import UserError
from generator.hosts import inventory, leases, nsprocs, stack_nodes, stacks, virtual_node
from generator.hosts.virtual_node import (
    RUN_ROOT,
    SSHD,
    SWITCH,
    Node,
    NodeStatus,
    in_netns,
    make_netns,
    members,
    node_status,
    remove_netns,
    run_checked,
    sshd_running,
)

__all__ = [  # what the CLI, the tests and the benchmark use
    "BRIDGE",
    "NODES",
    "RUN_ROOT",
    "SWITCH",
    "Node",
    "NodeStatus",
    "client_key",
    "all_nodes",
    "down",
    "known_hosts",
    "members",
    "missing_tools",
    "node_status",
    "status",
    "up",
]

BRIDGE = "rcp-lab0"
GATEWAY = "192.168.205.1/24"
LOCK = Path("/run/recipe-hosts.lock")
BUSYBOX = Path("/bin/busybox")
SSHD_PRIVSEP = Path("/run/sshd")  # sshd refuses to start without it; Debian creates it at boot


Say = Callable[[str], None]


def silent(line: str) -> None:
    del line


NODES = (
    Node("docker-node1", "192.168.205.10", "rcp-node1"),
    Node("docker-node2", "192.168.205.11", "rcp-node2"),
)


def client_key() -> Path:
    return inventory.state_dir() / "id_ed25519"


def known_hosts() -> Path:
    return inventory.state_dir() / "known_hosts"


@contextmanager
def locked() -> Iterator[None]:
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


def require_root() -> None:
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
        run_checked(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "recipe-hosts", "-f", str(key)],
            "generating the tool's SSH key",
        )
    (state / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    (state / "authorized_keys").chmod(0o600)


def _switch(where: Path = SWITCH) -> None:
    """The bridge in a namespace of its own: no firewall there (the host's Docker sets FORWARD to
    DROP in the host's namespace only), and no trace in the host's listings."""
    if not where.exists():
        make_netns(where, "the nodes' switch")
        switch = in_netns(where)
        run_checked(
            [*switch, "ip", "link", "add", BRIDGE, "type", "bridge"], f"creating bridge {BRIDGE}"
        )
        run_checked([*switch, "ip", "addr", "add", GATEWAY, "dev", BRIDGE], f"addressing {BRIDGE}")
        run_checked([*switch, "ip", "link", "set", BRIDGE, "up"], f"bringing {BRIDGE} up")


def _privsep() -> None:
    """This machine's sshd, run by the nodes on its userland, needs /run/sshd."""
    if not SSHD_PRIVSEP.exists():
        SSHD_PRIVSEP.mkdir(mode=0o755)
        (inventory.state_dir() / "created-run-sshd").touch()


def _remove_shared() -> list[str]:
    problems = [] if remove_netns(SWITCH) else [f"cannot delete the switch namespace {SWITCH}"]
    state = inventory.state_dir()
    if (state / "created-run-sshd").exists() and not any(sshd_running(n) for n in all_nodes()):
        shutil.rmtree(SSHD_PRIVSEP, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(RUN_ROOT, ignore_errors=True)
    with suppress(OSError):  # /var/lib/recipe, when `up` made it and nothing else lives there
        state.parent.rmdir()
    return problems


# ---------------------------------------------------------------- status


def pair_made() -> bool:
    """docker-node1/2 exist (up or half made), or nothing does: then status lists them down."""
    return any(node.state.exists() for node in NODES) or not stack_nodes.existing()


def all_nodes() -> list[Node]:
    return [*(NODES if pair_made() else ()), *stack_nodes.existing()]


def status() -> list[NodeStatus]:
    return [node_status(node) for node in all_nodes()]


# ---------------------------------------------------------------- up / down


def up(
    stack: str | None = None, count: int = 2, say: Say = silent, pair: bool = False
) -> list[NodeStatus]:
    """Make docker-node1/2, or `count` nodes of a stack, or with pair the stack's two-host pair;
    a node already running is left alone, a broken one is remade. What fails half made is
    removed, also on Ctrl-C."""
    require_root()
    if stack is None:
        wanted = list(NODES)
    elif pair:
        wanted = stack_nodes.pair(stacks.get(stack))
    else:
        wanted = stack_wanted(stacks.get(stack), count)
    prepare(wanted, say)
    started: list[Node] = []
    with locked():
        try:
            make(wanted, say, started)
        except BaseException:
            remove(started)  # what ran before stays: another command may be using it
            raise
    return [node_status(node) for node in wanted]


def stack_wanted(stack: stacks.Stack, count: int) -> list[Node]:
    if count < 1:
        raise UserError("--nodes must be 1 or more", exit_code=2)
    return [stack_nodes.node(stack, number) for number in range(1, count + 1)]


def _busybox_rootfs(binary: Path) -> bytes:
    """The same offline busybox image `recipe image build busybox` makes, from the node's own
    busybox: the stack's, on a stack."""
    from generator.hosts import images

    binary = images.busybox_binary(binary)
    return images.rootfs_tar(binary, images.applet_paths(binary))


def prepare(wanted: list[Node], say: Say) -> None:
    """Build the stack's root when it is not cached: before the machine's lock, which a build
    of 40 s would hold against every other command (the root has a lock of its own)."""
    stack = stacks.get(wanted[0].stack) if wanted and wanted[0].stack else None
    if stack is not None and not stack.is_host:
        from generator.hosts import stack_root

        stack_root.ensure_root(stack, say)


def make(wanted: list[Node], say: Say, started: list[Node]) -> None:
    """Start each node of wanted that is not running, adding it to started as it starts."""
    if not wanted:
        return
    _keys()
    stack = stacks.get(wanted[0].stack) if wanted[0].stack else None
    for switch in {node.switch for node in wanted if node.veth}:
        _switch(switch)
    if stack is None or stack.is_host:
        _privsep()
    prepare(wanted, say)  # cached by now: a check of its stamp
    for node in wanted:
        if node_status(node).running:
            continue
        _stop_engines((node,))
        virtual_node.stop(node)
        if node.stack:
            node.state.mkdir(parents=True, exist_ok=True, mode=0o700)
            stack_nodes.record(node)  # first, so that down finds a node that fails half made
        started.append(node)
        virtual_node.start(node, BRIDGE)
    if started:
        rootfs = _busybox_rootfs(stack_nodes.busybox_binary(stack) if stack else BUSYBOX)
        for node in started:
            log = node.state / "dockerd.log"
            virtual_node.wait_for(
                partial(virtual_node.docker_answers, node),
                30,
                f"{node.name}'s Docker engine (log: {log})",
            )
            virtual_node.load_busybox(node, rootfs)
    _write_inventory()


def _write_inventory() -> None:
    lines, entries = [], []
    for node in all_nodes():
        try:
            key = (node.state / "ssh_host_ed25519_key.pub").read_text().split()
        except OSError:
            continue  # not made (docker-node1/2 while only stack nodes are up)
        known = (
            f"[{node.address}]:{node.port}" if node.port != 22 else f"{node.name},{node.address}"
        )
        line = f"{known} {key[0]} {key[1]}\n"
        own = stack_nodes.is_paired(node)  # its addresses are docker-node1/2's: a file of its own
        if own:
            (node.state / "known_hosts").write_text(line)
        else:
            lines.append(line)
        entries.append(
            inventory.HostEntry(
                name=node.name,
                address=node.address,
                user="root",
                port=node.port,
                identity=str(client_key()),
                known_hosts=str(node.state / "known_hosts" if own else known_hosts()),
                netns=str(node.switch if node.veth else node.netns),
                stack=node.stack,
            )
        )
    known_hosts().write_text("".join(lines))
    inventory.write(entries)


def down(purge: bool = False) -> list[str]:
    """Remove every node and everything shared; with purge, the cached stack roots too; return
    problems that remain (normally none)."""
    require_root()
    with locked():
        everything = [*NODES, *stack_nodes.existing()]
        busy = [node.name for node in everything if leases.leased(node.name)]
        if busy:
            raise UserError(
                f"{', '.join(busy)}: in use by a running recipe command (run or replay with "
                "--stack); let it finish or stop it, then run `recipe hosts down` again",
                exit_code=1,
            )
        problems = remove(everything)
        if purge:
            from generator.hosts import stack_root

            for stack in stacks.STACKS.values():
                problems += stack_root.purge(stack)
        return problems


def _stop_engines(nodes: tuple[Node, ...]) -> None:
    """A clean stop lets each dockerd stop its containers and unmount; the engines stop together."""
    pids = [pid for node in nodes for pid in virtual_node.named(node, "dockerd")]
    nsprocs.signal_all(pids, signal.SIGTERM)
    nsprocs.wait_gone(pids, 8.0)  # whatever is left dies with the node's init


def remove(nodes: list[Node]) -> list[str]:
    """Stop those nodes; what the nodes share goes with the last of them."""
    problems: list[str] = []
    _stop_engines(tuple(nodes))
    for node in nodes:
        problems += virtual_node.stop(node)
    left = [n for n in [*NODES, *stack_nodes.existing()] if n.state.exists()]
    for switch in {node.switch for node in nodes if node.veth} - {SWITCH}:
        if not any(n.veth and n.switch == switch for n in left) and not remove_netns(switch):
            problems.append(f"cannot delete the switch namespace {switch}")
    if not left:
        return problems + _remove_shared()
    _write_inventory()
    return problems
