"""`recipe hosts up | down | status`: the walkthrough's two Docker nodes, made on this machine."""

from __future__ import annotations

import sys

import typer

from generator.errors import UserError

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
def status() -> None:
    """Tell what runs of each node; exits 0 when both nodes run, 1 otherwise."""
    from generator.hosts import nodes as hosts

    states = hosts.status()
    for state in states:
        parts = [
            f"{name} {'yes' if ok else 'no'}"
            for name, ok in (
                ("netns", state.netns),
                ("init", state.init),
                ("docker", state.dockerd),
                ("sshd", state.sshd),
            )
        ]
        word = (
            "up"
            if state.running
            else (
                "partial" if any((state.netns, state.init, state.dockerd, state.sshd)) else "down"
            )
        )
        print(f"{state.node.name}  {state.node.address}  {word}  ({', '.join(parts)})")
    if not all(state.running for state in states):
        raise SystemExit(1)  # click turns typer.Exit into a return value when not standalone


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="hosts")
