"""`recipe hosts up | down | status`: the walkthrough's two Docker nodes, made on this machine."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from generator.commands.library import JsonOption, print_json
from generator.errors import UserError

if TYPE_CHECKING:
    from generator.hosts.virtual_node import NodeStatus

app = typer.Typer(
    help="Local virtual Docker nodes docker-node1/2 (192.168.205.10/11), no VirtualBox needed.",
    no_args_is_help=True,
)


@app.command()
def up() -> None:
    """Make docker-node1 and docker-node2: namespaces, a bridge, a Docker engine and sshd each."""
    from generator.hosts import inventory
    from generator.hosts import nodes as hosts

    for state in hosts.up():
        print(f"{state.node.name}  {state.node.address}  up")
    print(f"inventory: {inventory.inventory_path()}", file=sys.stderr)


@app.command()
def down() -> None:
    """Remove the nodes: processes, namespaces, links, firewall rule and state."""
    from generator.hosts import nodes as hosts

    problems = hosts.down()
    if problems:
        raise UserError("hosts down left something behind: " + "; ".join(problems), exit_code=1)
    print("nodes removed")


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Tell what runs of each node; exits 0 when both nodes run, 1 otherwise."""
    from generator.hosts import nodes as hosts

    states = hosts.status()
    if as_json:  # docs/schemas/hosts-status.json
        nodes = [_node(state) for state in states]
        print_json({"nodes": nodes, "running": all(state.running for state in states)})
    for state in states if not as_json else ():
        parts = [f"{name} {'yes' if ok else 'no'}" for name, ok in _parts(state).items()]
        print(f"{state.node.name}  {state.node.address}  {_word(state)}  ({', '.join(parts)})")
    if not all(state.running for state in states):
        raise SystemExit(1)  # click turns typer.Exit into a return value when not standalone


def _parts(state: NodeStatus) -> dict[str, bool]:
    return {"netns": state.netns, "init": state.init, "docker": state.dockerd, "sshd": state.sshd}


def _word(state: NodeStatus) -> str:
    if state.running:
        return "up"
    return "partial" if any(_parts(state).values()) else "down"


def _node(state: NodeStatus) -> dict[str, object]:
    return {
        "name": state.node.name,
        "address": str(state.node.address),
        "state": _word(state),
        **_parts(state),
    }


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="hosts")
