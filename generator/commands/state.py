"""`recipe state [--host H]... [--json]`: what this machine or each host holds now, observed.

Meant for a lab left standing with `recipe run --keep`, as `clab inspect` is for a deployed
topology: the namespaces, links, veth peers, bridges, addresses, containers and networks that
are really there (docs/state.md), as tables or as JSON.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from generator.commands.run import IdentityOption, StrictHostKeyOption


def state(
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            metavar="HOST",
            help="Observe this host (repeatable): local (default), a node of `recipe hosts`, a "
            "Vagrant machine, a ~/.ssh/config host or [user@]host[:port].",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the snapshots as JSON on stdout.")
    ] = False,
    identity: IdentityOption = None,
    strict_host_key: StrictHostKeyOption = False,
) -> None:
    """Print the observed network state: namespaces, links, peers, containers, networks."""
    from generator.lab import observe
    from generator.shell import remote
    from generator.transcript import state_text

    snapshots = []
    for name in host or [remote.LOCAL]:
        with remote.one(name, identity, strict_host_key) as shell:
            snapshots.append(observe.take(shell, host=name))
    if as_json:
        print(json.dumps([s.to_json() for s in snapshots], indent=2))
        return
    print("\n\n".join(state_text.render(s) for s in snapshots))


def register(parent: typer.Typer) -> None:
    parent.command()(state)
