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
from generator.transcript.matrix import Cell, Matrix
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
    home = {e.name: side for side in sides for e in found[side.role]}
    cells, results = _probe_all(sides, found, order, pairs, ports, timeout)
    cells = _causes(cells, home, {e.name: e for e in everyone}, results)
    seconds = max((float(r.get("seconds", 0.0)) for r in results.values()), default=0.0)
    names = tuple(e.name for e in everyone)
    return Matrix(
        ", ".join(side.role for side in sides),
        names,
        tuple(cells),
        seconds,
        tuple(r.text for r in rules),
    )


def _probe_all(
    sides: Sequence[Side],
    found: dict[str, list[Endpoint]],
    order: Sequence[tuple[Side, Endpoint, Endpoint, Address]],
    pairs: dict[tuple[str, str, str], reach.Expectation],
    ports: Sequence[int],
    timeout: float,
) -> tuple[list[Cell], dict[str, dict[str, Any]]]:
    """Each side's pairs, probed from that side: the cells, and each side's prober result."""
    cells: list[Cell] = []
    results: dict[str, dict[str, Any]] = {}
    for side in sides:
        mine = [(s, t, a) for owner, s, t, a in order if owner is side]
        if not mine:
            continue
        result = results[side.role] = _probe(side, found[side.role], mine, ports, timeout)
        icmp = [detail for row in result["icmp"] for detail in row]
        tcp = [of for row in result["tcp"] for of in row]
        for (s, t, a), detail, tcp_of in zip(mine, icmp, tcp, strict=True):
            expected = pairs[(s.name, t.name, a.ip)]
            cells.append(reach_matrix.probed_cell(s, t, a, expected, detail, tcp_of))
    return cells, results


def _causes(
    cells: list[Cell],
    home: dict[str, Side],
    by_name: dict[str, Endpoint],
    results: dict[str, dict[str, Any]],
) -> list[Cell]:
    """Each contradiction with its likely cause; the far end's rules read on its own host."""
    far = _far_rules(cells, home, by_name)
    done = []
    for cell in cells:
        if not cell.contradiction:
            done.append(cell)
            continue
        side, target = home[cell.source], by_name[cell.target]
        result = results[side.role]
        if home[cell.target] is not side:  # a key of its own: both ends may share a path
            key = f"{home[cell.target].role}:{target.path}"
            result = {**result, "rules": {**result.get("rules", {}), key: far.get(key, [])}}
            target = dataclasses.replace(
                target, namespace=dataclasses.replace(target.namespace, path=key)
            )
        address = next(a for a in by_name[cell.target].addresses if a.ip == cell.address)
        expected = reach.Expectation(cell.expected, cell.why)
        why = reach_matrix.cause(
            by_name[cell.source], target, address, expected, cell.detail, result, side.lab_rules
        )
        done.append(dataclasses.replace(cell, cause=why))
    return done


def _far_rules(
    cells: Sequence[Cell], home: dict[str, Side], by_name: dict[str, Endpoint]
) -> dict[str, list[str]]:
    """The firewall rules of each far end of a pair that failed across hosts, read on its own
    host (`ROLE:PATH` -> rules): a prober run there that probes nothing."""
    wanted: dict[str, set[str]] = {}
    for cell in cells:
        if cell.contradiction and home[cell.source] is not home[cell.target]:
            side = home[cell.target]
            path = next(
                e.path for e in reach.endpoints(side.snapshot) if cell.target.endswith(f"/{e.name}")
            )
            wanted.setdefault(side.role, set()).add(path)
    found: dict[str, list[str]] = {}
    sides = {side.role: side for side in home.values()}
    for role, paths in wanted.items():
        request = {"sources": [], "owners": {}, "rules_of": sorted(paths), "timeout": 1.0}
        result = reach.run_prober(sides[role].shell, role, request)
        for path, rules in result.get("rules", {}).items():
            found[f"{role}:{path}"] = list(rules)
    return found


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
