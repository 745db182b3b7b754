"""The facts of an observed graph and the words for what changed between two of them.

generator/compare/graph.py reads a Snapshot into facts; this module holds the fact itself and
turns two sets of facts into drift lines. It is apart from graph.py only to keep each module
small; nothing here knows a Snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from generator.compare.sides import REPLAY, Sides

# (kind, subject, value): a fact's identity, and how a fact names the one it hangs on.
Key = tuple[str, str, str]

# Per kind: the words for one fact ({s} subject, {v} value) and for a subject whose values
# changed ({s}, {r} the recording's values, {a} today's). The order of this table is the
# order of the report: what exists first, then how it is wired, then its addresses.
_WORDS: dict[str, tuple[str, str]] = {
    "endpoint": ("{s} ({v})", "{s} is a {r} {then}, a {a} {now}"),
    "network": ("network {s} ({v})", "network {s} is {r} {then}, {a} {now}"),
    "swarm": ("swarm node {s} ({v})", "swarm node {s} is a {r} {then}, a {a} {now}"),
    "interface": ("interface {s} ({v})", "{s} is a {r} {then}, a {a} {now}"),
    "veth": ("the veth {s}", ""),  # changes are worded by _moved_veths
    "port": ("port {s} on {v}", "port {s} is on {r} {then}, on {a} {now}"),
    "vxlan": ("vxlan {s} ({v})", "vxlan {s} has {r} {then}, {a} {now}"),
    "attachment": ("{s} on {v}", "{s} is on {r} {then}, on {a} {now}"),
    "container-state": ("{s} {v}", "{s} is {r} {then}, {a} {now}"),
    "state": ("{s} {v}", "{s} is {r} {then}, {a} {now}"),
    "address": ("address {v} on {s}", "{s} has {r} {then}, {a} {now}"),
    "attachment-ip": ("address {v} of {s}", "{s} has {r} {then}, {a} {now}"),
    "route": ("route {v} in {s}", "{s} has route {r} {then}, {a} {now}"),
}
ORDER = {kind: i for i, kind in enumerate(_WORDS)}
VETH_JOIN = " <-> "


@dataclass(frozen=True, order=True)
class Fact:
    """One node or edge of the graph, under canonical names only.

    Only kind, subject and value make a fact's identity. `areas` says which parts of a
    snapshot it was read from (Docker, a namespace, ...), so a side that could not read a part
    says nothing about it; `parents` are the facts this one hangs on (an address on its
    interface), so a new namespace is one line, not one per interface and address in it."""

    kind: str
    subject: str
    value: str = ""
    areas: frozenset[str] = field(default=frozenset(), compare=False, hash=False)
    parents: tuple[Key, ...] = field(default=(), compare=False, hash=False)

    @property
    def key(self) -> Key:
        return (self.kind, self.subject, self.value)

    @property
    def phrase(self) -> str:
        return _WORDS[self.kind][0].format(s=self.subject, v=self.value)


def veth(end: str, other: str) -> str:
    """The subject of a veth pair: its two ends in sorted order, so the pair is unordered."""
    return VETH_JOIN.join(sorted((end, other)))


def lines(removed: Iterable[Fact], added: Iterable[Fact], sides: Sides = REPLAY) -> list[str]:
    """One line per changed subject: `in the recording X, now Y` when a subject lost values
    and gained others, `... is missing` or `... is new` when it is on one side only."""
    was_side, now_side = set(removed), set(added)
    gone, new = set(was_side), set(now_side)
    # A moved veth end first: the new namespace it now ends in must not explain it away.
    found = _moved_veths(gone, new, sides)
    gone, new = _unexplained(gone, was_side), _unexplained(new, now_side)
    by_subject: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for fact in gone:
        by_subject.setdefault((fact.kind, fact.subject), ([], []))[0].append(fact.value)
    for fact in new:
        by_subject.setdefault((fact.kind, fact.subject), ([], []))[1].append(fact.value)
    for (kind, subject), (was, now) in by_subject.items():
        if was and now and _WORDS[kind][1]:
            text = _WORDS[kind][1].format(
                s=subject, r=", ".join(sorted(was)), a=", ".join(sorted(now)), **_when(sides)
            )
            found.append((ORDER[kind], subject, text))
            continue
        for value in sorted(was):
            found.append((ORDER[kind], subject, f"{Fact(kind, subject, value).phrase} is missing"))
        for value in sorted(now):
            found.append((ORDER[kind], subject, f"{Fact(kind, subject, value).phrase} is new"))
    return [text for *_, text in sorted(found)]


def _unexplained(facts: set[Fact], side: set[Fact]) -> set[Fact]:
    """The facts whose parents are not themselves on this side of the change (`side`): the
    addresses of a new interface are said by `... is new` of the interface, the interfaces of a
    namespace by the namespace's."""
    keys = {fact.key for fact in side}
    return {fact for fact in facts if not any(parent in keys for parent in fact.parents)}


def _when(sides: Sides) -> dict[str, str]:
    return {"then": sides.then, "now": sides.now}


def _moved_veths(gone: set[Fact], new: set[Fact], sides: Sides) -> list[tuple[int, str, str]]:
    """A pair that lost one end and gained another: `the veth from A ends at B in the
    recording, at C now`. Takes the pairs it words out of `gone` and `new`."""
    by_end: dict[str, list[Fact]] = {}  # today's new pairs by each of their ends, in order
    for fact in sorted(f for f in new if f.kind == "veth"):
        for end in dict.fromkeys(fact.subject.split(VETH_JOIN)):
            by_end.setdefault(end, []).append(fact)
    found = []
    for old in sorted(f for f in gone if f.kind == "veth"):
        ends = old.subject.split(VETH_JOIN)
        for end in ends:
            match = next((f for f in by_end.get(end, ()) if f in new), None)
            if match is None:
                continue
            was = next((e for e in ends if e != end), end)
            now = next((e for e in match.subject.split(VETH_JOIN) if e != end), end)
            text = f"the veth from {end} ends at {was} {sides.then}, at {now} {sides.now}"
            found.append((ORDER["veth"], end, text))
            gone.discard(old)
            new.discard(match)
            break
    return found
