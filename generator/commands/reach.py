"""`recipe reach [--host H]... [--rule RULE]... [--tcp PORT]... [--json]`: every endpoint of a lab
left standing (`recipe run NAME --keep`) against every other, expected against actual.

Exit status 0 when the matrix holds, 1 on any contradiction, 2 for bad input or no lab
(docs/reach.md, generator/lab/reach.py)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from generator.commands.run import IdentityOption, StrictHostKeyOption

if TYPE_CHECKING:
    from generator.lab.reach_rules import Rule
    from generator.transcript.matrix import Matrix


def reach(
    host: Annotated[
        list[str] | None,
        typer.Option(
            "--host",
            metavar="HOST",
            help="Probe the lab on this host: local (default), a node of `recipe hosts`, a "
            "Vagrant machine, a ~/.ssh/config host or [user@]host[:port]. Twice or more: one "
            "matrix across the hosts, over their VXLANs and Docker overlay networks.",
            show_default=False,
        ),
    ] = None,
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
    by_name: Annotated[
        bool,
        typer.Option(
            "--by-name",
            help="Also let each container look each other container up by name, as its own "
            "resolver would (/etc/hosts, then Docker's DNS), and ping what the name gives.",
        ),
    ] = False,
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
    from generator.errors import UserError
    from generator.lab import reach_rules
    from generator.transcript import matrix_text

    rules = reach_rules.parse(rule or [])
    for port in tcp or []:
        if not 0 < port < 65536:
            raise UserError(f"--tcp {port}: a TCP port is 1 to 65535")
    hosts = list(dict.fromkeys(host or ["local"]))
    if by_name and len(hosts) > 1:
        raise UserError("--by-name probes names on one --host at a time; across hosts, by address")
    matrix = _take(
        hosts,
        rules,
        tcp or [],
        with_host,
        only or [],
        identity,
        strict_host_key,
        raise_neigh_limit,
        by_name,
    )
    print(json.dumps(matrix.to_json(), indent=2) if as_json else matrix_text.render(matrix))
    if not matrix.holds:
        raise typer.Exit(1)


def _take(
    hosts: list[str],
    rules: Sequence[Rule],
    ports: list[int],
    with_host: bool,
    only: list[str],
    identity: Path | None,
    strict: bool,
    raise_neigh_limit: bool,
    by_name: bool,
) -> Matrix:
    """One host's matrix, or one across several."""
    from generator.lab import neigh_limit, observe, reach_across, reach_matrix
    from generator.shell import remote

    with contextlib.ExitStack() as stack:
        shells = [stack.enter_context(remote.one(h, identity, strict)) for h in hosts]
        snapshots = [observe.take(shell, host=h) for shell, h in zip(shells, hosts, strict=True)]
        for shell, snapshot, h in zip(shells, snapshots, hosts, strict=True):
            if raise_neigh_limit:  # each host has its own kernel, and its own table
                entries = neigh_limit.pairs(snapshot, with_host, only)
                stack.enter_context(neigh_limit.raised(shell, entries, h))
        if len(hosts) == 1:
            return reach_matrix.take(
                shells[0], snapshots[0], rules, ports, with_host, only=only, by_name=by_name
            )

        sides = [
            reach_across.Side(h, shell, snapshot, ())
            for h, shell, snapshot in zip(hosts, shells, snapshots, strict=True)
        ]
        return reach_across.take(sides, rules, ports, with_host, only)


def register(parent: typer.Typer) -> None:
    parent.command()(reach)
