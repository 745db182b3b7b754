"""Probes by name (`recipe reach --by-name`, `#@ reach by-name`): each container source looks
each other container of its host up by name, as its own resolver would (generator/lab/
resolver.py), and what a name resolves to is pinged in the same prober run as the addresses.

What is expected, the walkthrough's story: a name resolves when both containers share a
user-defined Docker network (Docker's embedded DNS knows its members) or when the source's
/etc/hosts names the target (`--link` writes it there); on the default bridge alone, no name
resolves. A cell by name has the key (source, target, `name NAME`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError
from generator.lab import prober, resolver
from generator.lab.reach import Endpoint, Expectation
from generator.shell.base import Shell
from generator.transcript.state import Snapshot

DEFAULT_BRIDGE = "bridge"
TIMEOUT = 60.0


@dataclass(frozen=True)
class Lookup:
    source: Endpoint
    target: Endpoint
    address: str  # what the name resolved to, "" when it did not
    how: str  # "/etc/hosts", "DNS 127.0.0.11", ""
    why: str  # why it did not resolve

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source.name, self.target.name, f"name:{self.target.name}")


def wanted(found: Sequence[Endpoint]) -> list[tuple[Endpoint, Endpoint]]:
    """The ordered pairs of containers: only a container has a resolver of its own to ask."""
    containers = [e for e in found if e.kind == "container"]
    return [(s, t) for s in containers for t in containers if t is not s]


def look_up(
    shell: Shell, host: str, pairs: Sequence[tuple[Endpoint, Endpoint]], lab: set[str]
) -> list[Lookup]:
    """Each pair's name, resolved on the host in the source's namespace."""
    if not pairs:
        return []
    sources = list(dict.fromkeys(s.name for s, _ in pairs))
    by_name = {s.name: s for s, _ in pairs}
    request = {
        "sources": [
            {"path": by_name[n].path, "names": [t.name for s, t in pairs if s.name == n]}
            for n in sources
        ],
        "lab": sorted(lab),
        "timeout": 1.0,
    }
    done = shell.run(prober.shipped(Path(resolver.__file__), request), TIMEOUT)
    for line in done.stdout.splitlines():
        if line.startswith(resolver.MARK):
            result = json.loads(line[len(resolver.MARK) :])
            if "error" in result:
                raise UserError(f"{host}: {result['error']}")
            return _lookups(pairs, sources, result["names"])
        if line.startswith("@@rcp-reach-missing"):
            raise UserError(f"{host}: python3 is not installed; recipe reach probes with it")
    said = (done.stderr.strip() or done.stdout.strip()).splitlines()
    raise UserError(f"{host}: the name resolver printed no result: {said[-1] if said else ''}")


def _lookups(
    pairs: Sequence[tuple[Endpoint, Endpoint]], sources: list[str], names: object
) -> list[Lookup]:
    """The resolver's answer, checked: it ran on a host that is not trusted."""
    if not isinstance(names, list) or len(names) != len(sources):
        raise UserError("the name resolver's answer does not fit the request")
    rows = dict(zip(sources, names, strict=True))
    found = []
    for source in sources:
        targets = [t for s, t in pairs if s.name == source]
        row = rows[source]
        if not isinstance(row, list) or len(row) != len(targets):
            raise UserError("the name resolver's answer does not fit the request")
        for target, got in zip(targets, row, strict=True):
            item = got if isinstance(got, dict) else {}
            found.append(
                Lookup(
                    next(s for s, _ in pairs if s.name == source),
                    target,
                    str(item.get("address", "")),
                    str(item.get("how", "")),
                    str(item.get("why", "")),
                )
            )
    return found


def expect(lookup: Lookup, snapshot: Snapshot) -> Expectation:
    shared = sorted(
        _user_networks(snapshot, lookup.source) & _user_networks(snapshot, lookup.target)
    )
    if shared:
        return Expectation(True, f"Docker's DNS knows the members of {shared[0]}")
    if lookup.how == "/etc/hosts":
        return Expectation(True, f"{lookup.source.name}'s /etc/hosts names it (a --link)")
    return Expectation(False, "no user-defined network in common and no link: no name")


def _user_networks(snapshot: Snapshot, endpoint: Endpoint) -> set[str]:
    container = snapshot.container(endpoint.name)
    if container is None:
        return set()
    return {a.network for a in container.networks if a.network != DEFAULT_BRIDGE}
