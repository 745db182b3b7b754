"""`recipe reach [--host H] [--rule RULE]... [--tcp PORT]... [--json]`: every endpoint of a lab
left standing (`recipe run NAME --keep`) against every other, expected against actual.

Exit status 0 when the matrix holds, 1 on any contradiction, 2 for bad input or no lab
(docs/reach.md, generator/lab/reach.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from generator.commands.run import IdentityOption, StrictHostKeyOption


def reach(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            metavar="HOST",
            help="Probe the lab on this host: local (default), a node of `recipe hosts`, a "
            "Vagrant machine, a ~/.ssh/config host or [user@]host[:port].",
        ),
    ] = "local",
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            metavar="RULE",
            help="Refine the expected matrix (repeatable, or several split by ';'): "
            "'a -> b: no', '* -> b: yes', 'on NETWORK: yes'.",
            show_default=False,
        ),
    ] = None,
    tcp: Annotated[
        list[int] | None,
        typer.Option(
            "--tcp", metavar="PORT", help="Also try this TCP port (repeatable).", show_default=False
        ),
    ] = None,
    with_host: Annotated[
        bool, typer.Option("--with-host", help="Count the host itself as an endpoint.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="GLOB",
            help="Only the endpoints whose name matches (repeatable), e.g. 'test*'.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the matrix as JSON.")] = False,
    raise_neigh_limit: Annotated[
        bool,
        typer.Option(
            "--raise-neigh-limit",
            help="Raise the kernel's neighbour table limits (net.ipv4.neigh.default.gc_thresh1-3, "
            "shared by every namespace) to fit every pair while probing, and restore them after. "
            "Needs root.",
        ),
    ] = False,
    identity: IdentityOption = None,
    strict_host_key: StrictHostKeyOption = False,
) -> None:
    """Probe every pair of the lab's namespaces and containers; exit 1 on a contradiction."""
    from contextlib import nullcontext

    from generator.lab import neigh_limit, observe, reach_matrix, reach_rules
    from generator.shell import remote
    from generator.transcript import matrix_text

    rules = reach_rules.parse(rule or [])
    for port in tcp or []:
        if not 0 < port < 65536:
            from generator.errors import UserError

            raise UserError(f"--tcp {port}: a TCP port is 1 to 65535")
    with remote.one(host, identity, strict_host_key) as shell:
        snapshot = observe.take(shell, host=host)
        entries = neigh_limit.pairs(snapshot, with_host, only or [])
        with neigh_limit.raised(shell, entries, host) if raise_neigh_limit else nullcontext():
            matrix = reach_matrix.take(
                shell, snapshot, rules, tcp or [], with_host, only=only or []
            )
    print(json.dumps(matrix.to_json(), indent=2) if as_json else matrix_text.render(matrix))
    if not matrix.holds:
        raise typer.Exit(1)


def register(parent: typer.Typer) -> None:
    parent.command()(reach)
