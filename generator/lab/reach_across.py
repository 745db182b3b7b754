"""One matrix across the hosts of a multi-host run (issue 13: vxlan, swarm-overlay): every
endpoint of every host, named `ROLE/NAME`, against every other.

A source probes the endpoints of its own host at every address, and those of another host only
at the addresses on a segment that spans hosts and that it is on too (a VXLAN, a Docker overlay
network: generator/lab/reach.py `_spanning`). Anything else on another host is no lab path
from here: a container on docker0 there holds the same 172.17.0.2 as one here. Each host's
sources probe from that host, in one prober run there.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from generator.errors import UserError
from generator.lab import prober, reach, reach_matrix, reach_rules
from generator.lab.reach import Address, Endpoint
from generator.shell.base import Shell
from generator.transcript.matrix import Cell, Matrix, Port
from generator.transcript.state import Snapshot

SPANNING = ("vxlan ", "overlay ")


@dataclass(frozen=True)
class Side:
    role: str
    shell: Shell
    snapshot: Snapshot  # only what the lab made (reach_hosts.lab_made)
    lab_rules: tuple[str, ...]


def take(
    sides: Sequence[Side],
    rules: Sequence[reach_rules.Rule] = (),
    ports: Sequence[int] = (),
    with_host: bool = False,
    only: Sequence[str] = (),
    timeout: float = 1.0,
) -> Matrix:
    """Probe the pairs across all sides; UserError (exit 2) for a bad rule or no lab."""
    found = {side.role: _named(side, with_host, only) for side in sides}
    everyone = [e for side in sides for e in found[side.role]]
    if len(everyone) < 2:
        hosts = " and ".join(side.role for side in sides)
        raise UserError(
            f"no lab is standing on {hosts}: a matrix needs at least two namespaces or "
            "containers with an IPv4 address",
            reach_matrix.NO_LAB,
        )
    order = [
        (side, s, t, a)
        for side in sides
        for s in found[side.role]
        for t in everyone
        if t is not s
        for a in _reachable(s, t, t in found[side.role])
    ]
    pairs = {(s.name, t.name, a.ip): reach.expect(s, a) for _, s, t, a in order}
    pairs = reach_rules.apply(rules, everyone, pairs)
    cells: list[Cell] = []
    seconds = 0.0
    for side in sides:
        mine = [(s, t, a) for owner, s, t, a in order if owner is side]
        if not mine:
            continue
        result = _probe(side, found[side.role], mine, ports, timeout)
        seconds = max(seconds, float(result.get("seconds", 0.0)))
        icmp = [detail for row in result["icmp"] for detail in row]
        tcp = [of for row in result["tcp"] for of in row]
        for (s, t, a), detail, tcp_of in zip(mine, icmp, tcp, strict=True):
            expected = pairs[(s.name, t.name, a.ip)]
            cell = Cell(
                s.name,
                t.name,
                a.ip,
                expected.reach,
                expected.why,
                detail == "ok",
                detail or "not probed",
                tcp=tuple(Port(int(port), got) for port, got in tcp_of.items()),
                segment=a.label,
            )
            if cell.contradiction:
                why = reach_matrix.cause(s, t, a, expected, detail, result, side.lab_rules)
                cell = dataclasses.replace(cell, cause=why)
            cells.append(cell)
    names = tuple(e.name for e in everyone)
    return Matrix(
        ", ".join(side.role for side in sides),
        names,
        tuple(cells),
        seconds,
        tuple(r.text for r in rules),
    )


def _named(side: Side, with_host: bool, only: Sequence[str]) -> list[Endpoint]:
    """The side's endpoints, named ROLE/NAME; `only` matches either name."""
    found = []
    for e in reach.endpoints(side.snapshot, with_host):
        name = f"{side.role}/{e.name}"
        if only and not any(fnmatch.fnmatchcase(n, p) for p in only for n in (e.name, name)):
            continue
        found.append(dataclasses.replace(e, name=name))
    return found


def _reachable(source: Endpoint, target: Endpoint, same_host: bool) -> list[Address]:
    """The target's addresses this source probes: all on its own host; on another host those
    on a spanning segment the source is on too."""
    if same_host:
        return list(target.addresses)
    mine = {a.segment for a in source.addresses if a.segment.startswith(SPANNING)}
    return [a for a in target.addresses if a.segment in mine]


def _probe(
    side: Side,
    local: Sequence[Endpoint],
    mine: Sequence[tuple[Endpoint, Endpoint, Address]],
    ports: Sequence[int],
    timeout: float,
) -> dict[str, Any]:
    sources = list(dict.fromkeys(s.name for s, _, _ in mine))
    by_name = {e.name: e for e in local}
    owners = {a.ip: prober.HOST_PATH for _, _, a in mine}  # another host's: read our own rules
    owners.update({a.ip: e.path for e in local for a in e.addresses})
    wanted = {
        "sources": [
            {"path": by_name[name].path, "targets": [a.ip for s, _, a in mine if s.name == name]}
            for name in sources
        ],
        "owners": owners,
        "ports": list(ports),
        "timeout": timeout,
        "tries": 2,
    }
    return reach.run_prober(side.shell, side.role, wanted)
