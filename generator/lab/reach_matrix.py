"""The whole matrix of one host: endpoints, expectations, rules, one prober run, and the likely
cause of each contradiction (generator/lab/reach.py holds the model)."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Sequence
from typing import Any

from generator.errors import UserError
from generator.lab import prober, reach, reach_names, reach_rules
from generator.lab.reach import Address, Endpoint, Expectation
from generator.shell.base import Shell
from generator.transcript.matrix import Cell, Matrix, Port
from generator.transcript.state import HOST, Snapshot

NO_LAB = 2


def take(
    shell: Shell,
    snapshot: Snapshot,
    rules: Sequence[reach_rules.Rule] = (),
    ports: Sequence[int] = (),
    with_host: bool = False,
    lab_rules: Sequence[str] = (),
    timeout: float = 1.0,
    only: Sequence[str] = (),
    by_name: bool = False,
) -> Matrix:
    """Probe every ordered pair of the snapshot's endpoints through the host's shell.

    lab_rules: firewall rules the lab added (a snapshot's iptables diff), for causes. Raises
    UserError (exit 2) when no lab stands, for a bad rule, or for a target outside the lab.
    only: shell-style patterns; the endpoints whose name matches one (all when empty).
    by_name: each container also looks each other one up by name (generator/lab/reach_names.py)."""
    found = reach.endpoints(snapshot, with_host)
    if only:
        found = [e for e in found if any(fnmatch.fnmatchcase(e.name, p) for p in only)]
    if len(found) < 2:
        raise UserError(
            f"no lab is standing on {snapshot.host}: recipe reach needs at least two namespaces "
            "or containers with an IPv4 address (run `recipe run NAME --keep` first)",
            NO_LAB,
        )
    order = [(s, t, a) for s in found for t in found if t is not s for a in t.addresses]
    pairs = {(s.name, t.name, a.ip): reach.expect(s, a) for s, t, a in order}
    lookups: list[reach_names.Lookup] = []
    if by_name:
        lab = reach.lab_addresses(found)
        lookups = reach_names.look_up(shell, snapshot.host, reach_names.wanted(found), lab)
        pairs.update({look.key: reach_names.expect(look, snapshot) for look in lookups})
    pairs = reach_rules.apply(rules, found, pairs)
    wanted = reach.request(found, ports, timeout)
    probed = _add_names(wanted, found, lookups)
    reach.check_targets(found, [ip for source in wanted["sources"] for ip in source["targets"]])
    result = reach.run_prober(shell, snapshot.host, wanted)
    counts = [sum(len(t.addresses) for t in found if t is not s) for s in found]
    icmp = [d for row, n in zip(result["icmp"], counts, strict=True) for d in row[:n]]
    tcp = [of for row, n in zip(result["tcp"], counts, strict=True) for of in row[:n]]
    cells = []
    for (source, target, address), detail, tcp_of in zip(order, icmp, tcp, strict=True):
        expected = pairs[(source.name, target.name, address.ip)]
        cell = probed_cell(source, target, address, expected, detail, tcp_of)
        if cell.contradiction:
            why = cause(source, target, address, expected, detail, result, lab_rules)
            cell = dataclasses.replace(cell, cause=why)
        cells.append(cell)
    cells += _name_cells(lookups, pairs, probed, result, found)
    names = tuple(e.name for e in found)
    seconds = float(result.get("seconds", 0.0))
    return Matrix(snapshot.host, names, tuple(cells), seconds, tuple(r.text for r in rules))


def probed_cell(
    source: Endpoint,
    target: Endpoint,
    address: Address,
    expected: Expectation,
    detail: str,
    tcp_of: dict[str, str],
) -> Cell:
    """One probe by address as the prober answered it, without its cause yet."""
    return Cell(
        source.name,
        target.name,
        address.ip,
        expected.reach,
        expected.why,
        detail == "ok",
        detail or "not probed",
        tcp=tuple(Port(int(port), got) for port, got in tcp_of.items()),
        segment=address.label,
    )


def _add_names(
    wanted: dict[str, Any], found: Sequence[Endpoint], lookups: Sequence[reach_names.Lookup]
) -> dict[tuple[str, str], int]:
    """Append each name's lab address to its source's targets; (source, target) -> its index
    there. A name that resolved outside the lab is never probed."""
    lab = reach.lab_addresses(found)
    index = {e.name: i for i, e in enumerate(found)}
    probed = {}
    for look in lookups:
        if look.address in lab:
            targets = wanted["sources"][index[look.source.name]]["targets"]
            probed[(look.source.name, look.target.name)] = len(targets)
            targets.append(look.address)
    return probed


def _name_cells(
    lookups: Sequence[reach_names.Lookup],
    pairs: reach_rules.Pairs,
    probed: dict[tuple[str, str], int],
    result: dict[str, Any],
    found: Sequence[Endpoint],
) -> list[Cell]:
    """The cells by name: what each name resolved to, and whether that answered."""
    index = {e.name: i for i, e in enumerate(found)}
    cells = []
    for look in lookups:
        expected = pairs[look.key]
        at = probed.get((look.source.name, look.target.name))
        if at is not None:
            detail = result["icmp"][index[look.source.name]][at] or "not probed"
        elif look.address:
            detail = f"resolved to {look.address}, not an address of the lab: not probed"
        else:
            detail = look.why or "no such name"
        actual = detail == "ok"
        why = ""
        if actual != expected.reach:
            how = f"it resolved to {look.address} ({look.how})" if look.address else ""
            if actual:
                why = f"{how} and answered, though the expectation was: {expected.why}"
            elif how:
                why = f"{how}, which did not answer: {detail}"
            else:
                why = f"the name did not resolve: {detail}"
        cells.append(
            Cell(
                look.source.name,
                look.target.name,
                look.address,
                expected.reach,
                expected.why,
                actual,
                detail,
                cause=why,
                name=look.name,
            )
        )
    return cells


def _mentions(line: str, ips: Sequence[str]) -> bool:
    return any(re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d])", line) for ip in ips)


def cause(
    source: Endpoint,
    target: Endpoint,
    address: Address,
    expected: Expectation,
    detail: str,
    result: dict[str, Any],
    lab_rules: Sequence[str],
) -> str:
    """The likely cause of a contradiction, from the rules the prober read where it failed."""
    if not expected.reach:
        return f"it answered, though the expectation was: {expected.why}"
    rules: dict[str, list[str]] = result.get("rules", {})
    mine, theirs = [a.ip for a in source.addresses], [address.ip]
    for line in rules.get(source.path, []):
        if _mentions(line, theirs):
            return f"a firewall rule in {source.name}: {line}"
    for line in rules.get(target.path, []):
        if _mentions(line, mine):
            return f"a firewall rule in {target.name}: {line}"
    for line in lab_rules:
        if _mentions(line, mine + theirs):
            return f"a firewall rule the lab added: {line}"
    if result.get("neighbour_table_full"):
        return (
            "unknown: the kernel's neighbour table overflowed during the probe (it holds "
            f"net.ipv4.neigh.default.gc_thresh3={result.get('gc_thresh3')} entries for every "
            "namespace together, and each source needs one per target), so packets were dropped"
        )
    for endpoint in (source, target):
        if endpoint.kind == HOST:
            continue
        for line in rules.get(endpoint.path, []):
            if line.startswith(":"):
                return f"the {line.split()[0][1:]} policy {line.split()[1]} in {endpoint.name}"
            if line.startswith(("-A OUTPUT", "-A INPUT")):
                return f"a firewall rule in {endpoint.name}: {line}"
    crossing = _forward(address, expected, result)
    if crossing:
        return crossing
    if detail.startswith("send: "):
        return f"the kernel would not send it ({detail[6:]})"
    if expected.why.startswith("routed"):
        return f"no reply to a packet {expected.why[7:]}: the router forwards nothing back?"
    return f"no reply ({detail or 'not probed'})"


def _forward(address: Address, expected: Expectation, result: dict[str, Any]) -> str:
    """The host's FORWARD chain, when the packets pass through it."""
    host: list[str] = result.get("rules", {}).get(prober.HOST_PATH, [])
    bridged = address.segment.startswith(f"bridge {HOST}/") and bool(result.get("bridge_netfilter"))
    if not bridged and not expected.why.startswith("routed"):
        return ""
    bridge = address.segment.rsplit("/", 1)[-1]
    for line in host:
        chain = line.split()[1] if line.startswith("-A ") else ""
        if chain in ("FORWARD", "DOCKER-USER") and (
            _mentions(line, [address.ip]) or bridge in line
        ):
            return f"a firewall rule on the host: {line}"
    if any(line.startswith(":FORWARD DROP") for line in host):
        how = (
            f"br_netfilter passes what {bridge} bridges through it and no rule accepts that"
            if bridged
            else "no rule accepts the routed packets"
        )
        return f"the host's FORWARD policy is DROP: {how}"
    return ""
