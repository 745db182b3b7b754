"""`recipe hosts up | down | status`: the walkthrough's two Docker nodes, made on this machine."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from generator.commands.library import JsonOption, print_json
from generator.commands.stack_option import StackName, stack_option
from generator.errors import UserError
from generator.hosts.stacks import MAX_NODES

if TYPE_CHECKING:
    from generator.hosts.virtual_node import NodeStatus

app = typer.Typer(
    help="Local virtual Docker nodes: docker-node1/2 (192.168.205.10/11), no VirtualBox needed, "
    "and nodes of other stacks (--stack debian-13).",
    no_args_is_help=True,
)


NodesOption = Annotated[
    int | None,
    typer.Option(
        "--nodes",
        "-n",
        help="With --stack: how many nodes of the stack  [default: 2]",
        min=1,
        max=MAX_NODES,
        show_default=False,
    ),
]
UpStackOption = Annotated[
    StackName | None,
    stack_option(
        "Make nodes of this stack instead: its Docker, iproute2, iptables and busybox, on this "
        "kernel. They stay up until `recipe hosts down`."
    ),
]


def _say(line: str) -> None:
    print(f"recipe: {line}", file=sys.stderr)


@app.command()
def up(
    stack: UpStackOption = None,
    count: NodesOption = None,
    pair: Annotated[
        bool,
        typer.Option(
            "--pair",
            help="With --stack: the stack's two hosts for two-host labs, NAME-node1 and "
            "NAME-node2 (docker-node1/2 inside, 192.168.205.10/11 on a switch of their own).",
        ),
    ] = False,
) -> None:
    """Make docker-node1 and docker-node2, or with --stack the nodes NAME-1, NAME-2, ... that run
    that stack's userland: namespaces, a Docker engine and sshd each."""
    from generator.hosts import inventory
    from generator.hosts import nodes as hosts

    if (pair or count is not None) and stack is None:
        given = "--pair" if pair else "--nodes"
        raise UserError(f"{given} is for a stack's nodes; name the stack with --stack")
    if pair and count is not None:
        raise UserError("--pair makes the stack's two hosts; leave out --nodes")
    for state in hosts.up(stack.value if stack else None, count or 2, _say, pair):
        where = state.node.stack or state.node.address
        print(f"{state.node.name}  {where}  up")
    print(f"inventory: {inventory.inventory_path()}", file=sys.stderr)


@app.command()
def down(
    purge: Annotated[
        bool,
        typer.Option("--purge", help="Also remove the cached stack roots (rebuilt on next use)."),
    ] = False,
) -> None:
    """Remove every node: processes, namespaces, mounts, links and state (cached roots stay)."""
    from generator.hosts import nodes as hosts

    problems = hosts.down(purge)
    if problems:
        raise UserError("hosts down left something behind: " + "; ".join(problems), exit_code=1)
    print("nodes removed" + (", cached stack roots removed" if purge else ""))


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Tell what runs of each node, and what each stack node's userland holds; exits 0 when
    every node runs, 1 otherwise."""
    from generator.hosts import nodes as hosts

    states = hosts.status()
    if as_json:  # docs/schemas/hosts-status.json
        nodes = [_node(state) for state in states]
        print_json({"nodes": nodes, "running": all(state.running for state in states)})
    for state in states if not as_json else ():
        parts = [f"{name} {'yes' if ok else 'no'}" for name, ok in _parts(state).items()]
        where = state.node.stack or state.node.address
        line = f"{state.node.name}  {where}  {_word(state)}  ({', '.join(parts)})"
        versions = _versions(state)
        if versions:
            line += "  " + ", ".join(f"{name} {value}" for name, value in versions.items())
        print(line)
    if not all(state.running for state in states):
        raise SystemExit(1)  # click turns typer.Exit into a return value when not standalone


def _parts(state: NodeStatus) -> dict[str, bool]:
    return {"netns": state.netns, "init": state.init, "docker": state.dockerd, "sshd": state.sshd}


def _word(state: NodeStatus) -> str:
    if state.running:
        return "up"
    return "partial" if any(_parts(state).values()) else "down"


def _versions(state: NodeStatus) -> dict[str, str]:
    """What a stack node runs (read from its root's package list); {} for docker-node1/2."""
    from pathlib import Path

    from generator.hosts import stack_root

    if not state.node.stack:
        return {}
    return stack_root.versions(state.node.lower or Path("/"))


def _node(state: NodeStatus) -> dict[str, object]:
    return {
        "name": state.node.name,
        "address": str(state.node.address),
        "stack": state.node.stack or None,
        "versions": _versions(state),
        "state": _word(state),
        **_parts(state),
    }


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="hosts")
