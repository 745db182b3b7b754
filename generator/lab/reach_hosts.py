"""The matrix a `#@ reach` step asks for, on the hosts of a run: only what the lab made counts
as an endpoint (a namespace or container that was there before the run is the machine's, not
the lab's), and the rules the lab added to the firewall help name a likely cause."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from generator.errors import UserError
from generator.lab import reach_across, reach_matrix
from generator.lab.reach_directive import ReachSpec
from generator.shell.base import Shell
from generator.transcript.matrix import Matrix
from generator.transcript.state import Snapshot


@dataclass(frozen=True)
class HostState:
    role: str | None
    shell: Shell
    snapshot: Snapshot


def lab_made(snapshot: Snapshot) -> Snapshot:
    """The snapshot without the namespaces and containers that were there before the lab."""
    old = set(snapshot.preexisting)
    namespaces = tuple(
        ns for ns in snapshot.namespaces if ns.kind == "host" or f"namespace {ns.id}" not in old
    )
    containers = tuple(c for c in snapshot.containers if f"container {c.name}" not in old)
    return dataclasses.replace(snapshot, namespaces=namespaces, containers=containers)


def lab_rules(snapshot: Snapshot) -> tuple[str, ...]:
    """The firewall rules the lab added, as `-A ...` lines."""
    added = snapshot.iptables.added if snapshot.iptables is not None else ()
    return tuple(line.partition(": ")[2] or line for line in added)


def take(host: HostState, spec: ReachSpec) -> Matrix:
    """Probe every pair of what the lab made on one host; UserError (exit 2) for a rule that
    matches nothing, or fewer than two endpoints."""
    snapshot = lab_made(host.snapshot)
    return reach_matrix.take(
        host.shell,
        snapshot,
        spec.rules,
        spec.ports,
        spec.with_host,
        lab_rules(snapshot),
        only=spec.only,
        by_name=spec.by_name,
    )


def takes(hosts: Sequence[HostState], spec: ReachSpec) -> list[tuple[str | None, Matrix]]:
    """The matrix of one host; or, across the hosts of a multi-host run, one of them all."""
    if len(hosts) == 1:
        return [(hosts[0].role, take(hosts[0], spec))]
    sides = [
        reach_across.Side(h.role or "", h.shell, lab_made(h.snapshot), lab_rules(h.snapshot))
        for h in hosts
    ]
    if spec.by_name:
        raise UserError("'#@ reach by-name' probes names on one host; across hosts, by address")
    return [(None, reach_across.take(sides, spec.rules, spec.ports, spec.with_host, spec.only))]
