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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from generator.errors import UserError
from generator.hosts import inventory, nsprocs, virtual_node
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
SSHD_PRIVSEP = Path("/run/sshd")  # sshd refuses to start without it; Debian creates it at boot


NODES = (
    Node("docker-node1", "192.168.205.10", "rcp-node1"),
    Node("docker-node2", "192.168.205.11", "rcp-node2"),
)


def client_key() -> Path:
    return inventory.state_dir() / "id_ed25519"


def known_hosts() -> Path:
    return inventory.state_dir() / "known_hosts"


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
        run_checked(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "recipe-hosts", "-f", str(key)],
            "generating the tool's SSH key",
        )
    (state / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    (state / "authorized_keys").chmod(0o600)


def _switch() -> None:
    """The bridge in a namespace of its own: no firewall there (the host's Docker sets FORWARD to
    DROP in the host's namespace only), and no trace in the host's listings."""
    if not SWITCH.exists():
        make_netns(SWITCH, "the nodes' switch")
        switch = in_netns(SWITCH)
        run_checked(
            [*switch, "ip", "link", "add", BRIDGE, "type", "bridge"], f"creating bridge {BRIDGE}"
        )
        run_checked([*switch, "ip", "addr", "add", GATEWAY, "dev", BRIDGE], f"addressing {BRIDGE}")
        run_checked([*switch, "ip", "link", "set", BRIDGE, "up"], f"bringing {BRIDGE} up")
    if not SSHD_PRIVSEP.exists():
        SSHD_PRIVSEP.mkdir(mode=0o755)
        (inventory.state_dir() / "created-run-sshd").touch()


def _remove_shared() -> list[str]:
    problems = [] if remove_netns(SWITCH) else [f"cannot delete the switch namespace {SWITCH}"]
    state = inventory.state_dir()
    if (state / "created-run-sshd").exists() and not any(sshd_running(n) for n in NODES):
        shutil.rmtree(SSHD_PRIVSEP, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(RUN_ROOT, ignore_errors=True)
    with suppress(OSError):  # /var/lib/recipe, when `up` made it and nothing else lives there
        state.parent.rmdir()
    return problems


# ---------------------------------------------------------------- status


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


def _busybox_rootfs() -> bytes:
    """The same offline busybox image `recipe image build busybox` makes on the host."""
    from generator.hosts import images

    binary = images.busybox_binary()
    return images.rootfs_tar(binary, images.applet_paths(binary))


def _up() -> None:
    _keys()
    _switch()
    started = []
    for node in NODES:
        if node_status(node).running:
            continue
        _stop_engines((node,))
        virtual_node.stop(node)
        virtual_node.start(node, BRIDGE)
        started.append(node)
    if started:
        rootfs = _busybox_rootfs()
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
    lines = []
    for node in NODES:
        key = (node.state / "ssh_host_ed25519_key.pub").read_text().split()
        lines.append(f"{node.name},{node.address} {key[0]} {key[1]}\n")
    known_hosts().write_text("".join(lines))
    inventory.write(
        [
            inventory.HostEntry(
                name=node.name,
                address=node.address,
                user="root",
                port=22,
                identity=str(client_key()),
                known_hosts=str(known_hosts()),
                netns=str(SWITCH),
            )
            for node in NODES
        ]
    )


def down() -> list[str]:
    """Remove both nodes and everything shared; return problems that remain (normally none)."""
    _require_root()
    with _locked():
        return _down()


def _stop_engines(nodes: tuple[Node, ...]) -> None:
    """A clean stop lets each dockerd stop its containers and unmount; the engines stop together."""
    pids = [pid for node in nodes for pid in virtual_node.named(node, "dockerd")]
    nsprocs.signal_all(pids, signal.SIGTERM)
    nsprocs.wait_gone(pids, 8.0)  # whatever is left dies with the node's init


def _down() -> list[str]:
    problems: list[str] = []
    _stop_engines(NODES)
    for node in NODES:
        problems += virtual_node.stop(node)
    return problems + _remove_shared()
