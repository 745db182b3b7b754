"""The nodes of `recipe hosts up --stack NAME`: debian-13-1, debian-13-2, ... and the stack's
pair, debian-13-node1 and debian-13-node2.

A numbered stack node has no cable: nothing of it shows in its `ip link` but loopback and what
its labs make, so single-host labs read there as on this machine. The tool reaches its sshd on
the node's loopback, connecting from inside the node's network namespace, on a port of its own
(22000 + 100 x the stack's place + the node's number), so known_hosts holds one line per node.

The pair is the walkthrough's two hosts on that stack, for two-host labs: hostnames docker-node1
and docker-node2, addresses 192.168.205.10 and .11 with cables into a switch of the stack's own
(so the addresses do not clash with docker-node1/2's), each with a known_hosts file of its own.

Each node records what it is in its state folder (node.json), so status and down find it.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator import atomicfile
from generator.errors import UserError
from generator.hosts import inventory, stacks
from generator.hosts.virtual_node import RUN_ROOT, Node

LOOPBACK = "127.0.0.1"
# The pair's members: (name suffix, hostname, address), as the walkthrough's Vagrant machines.
PAIR = (("node1", "docker-node1", "192.168.205.10"), ("node2", "docker-node2", "192.168.205.11"))


def root_of(stack: stacks.Stack) -> Path | None:
    """The cached root a node of the stack chroots into; None for this machine's own."""
    return None if stack.is_host else stacks.cache_dir() / stack.name / "root"


def node(stack: stacks.Stack, number: int) -> Node:
    if not 1 <= number <= stacks.MAX_NODES:
        raise UserError(f"a stack has nodes 1 to {stacks.MAX_NODES}; ask for fewer", exit_code=2)
    place = list(stacks.STACKS).index(stack.name)
    return Node(
        name=f"{stack.name}-{number}",
        address=LOOPBACK,
        veth="",
        port=22000 + 100 * place + number,
        stack=stack.name,
        lower=root_of(stack),
    )


def pair(stack: stacks.Stack) -> list[Node]:
    """The stack's two-host pair: debian-13-node1 and debian-13-node2."""
    switch = RUN_ROOT / f"{stack.name}.switch.net"
    return [
        Node(
            name=f"{stack.name}-{suffix}",
            address=address,
            veth=f"rcp-{suffix}",
            stack=stack.name,
            lower=root_of(stack),
            hostname=hostname,
            switch=switch,
        )
        for suffix, hostname, address in PAIR
    ]


def is_paired(node: Node) -> bool:
    return bool(node.stack and node.veth)


def record(made: Node) -> None:
    """Say in the node's state folder what it is, before it starts, so down finds it."""
    data = {"name": made.name, "stack": made.stack, "port": made.port, "pair": is_paired(made)}
    atomicfile.write_text(made.state / "node.json", json.dumps(data) + "\n")


def existing() -> list[Node]:
    """Every stack node whose state folder is there, up or half made, in name order."""
    found = []
    for path in sorted(inventory.state_dir().glob("*/node.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            stack = stacks.STACKS[str(data["stack"])]
            members = pair(stack) if data.get("pair") else [node(stack, _number(data["name"]))]
        except (OSError, ValueError, KeyError, IndexError, TypeError, UserError):
            continue  # not one of ours; `hosts down` removes the whole state folder anyway
        found += [member for member in members if member.name == path.parent.name]
    return found


def _number(name: object) -> int:
    return int(str(name).rsplit("-", 1)[1])


def busybox_binary(stack: stacks.Stack) -> Path:
    """The stack's own static busybox, the one its image is built from."""
    root = root_of(stack)
    return root / "bin" / "busybox" if root else Path("/bin/busybox")
