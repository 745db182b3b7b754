"""The nodes of `recipe hosts up --stack NAME`: debian-13-1, debian-13-2, ...

A stack node has no cable: nothing of it shows in its `ip link` but loopback and what its labs
make, so single-host labs read there as on this machine. The tool reaches its sshd on the
node's loopback, connecting from inside the node's network namespace, on a port of its own
(22000 + 100 x the stack's place + the node's number), so known_hosts holds one line per node.
Each node records what it is in its state folder (node.json), so status and down find it.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator import atomicfile
from generator.errors import UserError
from generator.hosts import inventory, stacks
from generator.hosts.virtual_node import Node

LOOPBACK = "127.0.0.1"


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


def record(made: Node) -> None:
    """Say in the node's state folder what it is; written last, once the node is up."""
    data = {"name": made.name, "stack": made.stack, "port": made.port}
    atomicfile.write_text(made.state / "node.json", json.dumps(data) + "\n")


def existing() -> list[Node]:
    """Every stack node whose state folder is there, up or half made, in name order."""
    found = []
    for path in sorted(inventory.state_dir().glob("*/node.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            stack = stacks.STACKS[str(data["stack"])]
            number = int(str(data["name"]).rsplit("-", 1)[1])
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue  # not one of ours; `hosts down` removes the whole state folder anyway
        if data["name"] == path.parent.name:
            found.append(node(stack, number))
    return found


def numbers_of(stack: stacks.Stack) -> list[int]:
    return [int(n.name.rsplit("-", 1)[1]) for n in existing() if n.stack == stack.name]


def busybox_binary(stack: stacks.Stack) -> Path:
    """The stack's own static busybox, the one its image is built from."""
    root = root_of(stack)
    return root / "bin" / "busybox" if root else Path("/bin/busybox")
