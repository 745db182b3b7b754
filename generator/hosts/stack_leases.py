"""Stack nodes for one command: leased (generator/hosts/leases.py) for as long as it runs labs
on them, made when none is free, and removed again at the end if it made them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from generator.errors import UserError
from generator.hosts import leases, stack_nodes, stacks
from generator.hosts.nodes import (
    Say,
    locked,
    make,
    prepare,
    remove,
    require_root,
    silent,
    stack_wanted,
)
from generator.hosts.virtual_node import Node, node_status


@contextmanager
def leased_nodes(stack: str, count: int, say: Say = silent) -> Iterator[list[str]]:
    """`count` running nodes of the stack that no other command uses, leased for the block:
    free running ones first, then new ones, which are removed again at the end."""
    require_root()
    chosen = stacks.get(stack)
    stack_wanted(chosen, count)  # bad counts are one line before anything starts
    with _held(lambda held: _lease(chosen, count, held), say) as held:
        yield sorted(held.names)


@contextmanager
def leased_pair(stack: str, say: Say = silent) -> Iterator[dict[str, str]]:
    """The stack's pair for a two-host lab, leased for the block: {role: node}, the roles being
    docker-node1 and docker-node2. Made when it is not up, and then removed at the end."""
    require_root()
    chosen = stacks.get(stack)
    members = stack_nodes.pair(chosen)

    def lease(held: leases.Leases) -> list[Node]:
        if not all(held.take(node.name) for node in members):
            raise UserError(f"the {stack} pair is in use by another command; wait for it")
        return [node for node in members if not node_status(node).running]

    with _held(lease, say):
        yield {node.hostname: node.name for node in members}


@contextmanager
def _held(lease: Callable[[leases.Leases], list[Node]], say: Say) -> Iterator[leases.Leases]:
    """Lease under the machine's lock, make what lease returns, yield; then remove what was
    made and let the leases go, also on an error or Ctrl-C."""
    held = leases.Leases()
    made: list[Node] = []
    try:
        with locked():
            wanted = lease(held)
        prepare(wanted, say)  # a root to build is built outside the machine's lock
        with locked():
            try:
                make(wanted, say, made)
            except BaseException:
                remove(made)
                made = []
                raise
        yield held
    finally:
        if made:
            names = ", ".join(node.name for node in made)
            say(f"taking down {names}")
            with locked():
                for problem in remove(made):
                    say(f"taking down {names}: {problem}")
        held.release_all()


def _lease(stack: stacks.Stack, count: int, held: leases.Leases) -> list[Node]:
    """Lease free running nodes of the stack, then new numbers up to count; return the new."""
    existing = [n for n in stack_nodes.existing() if n.stack == stack.name and not n.veth]
    for node in existing:
        if len(held.names) < count and node_status(node).running:
            held.take(node.name)
    taken = {node.name for node in existing}
    new = []
    for number in range(1, stacks.MAX_NODES + 1):
        node = stack_nodes.node(stack, number)
        if len(held.names) >= count:
            break
        if node.name not in taken and held.take(node.name):
            new.append(node)
    if len(held.names) < count:
        raise UserError(f"every {stack.name} node is in use; wait, or ask for fewer", exit_code=1)
    return new
