"""The reachability matrix as data (issue 13): what generator/lab/reach_matrix.py measures, a
transcript records (`reach N` sections), replay compares and pages draw.

A cell is one probe from a source endpoint to a target endpoint: to one of its addresses, or by
its name. Its key names it by the segment, not the address, so a Docker network that got
another subnet on a machine with history is the same pair."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from generator.transcript import state_json


@dataclass(frozen=True)
class Port:
    port: int
    result: str  # "open", "refused", "no reply", ...


@dataclass(frozen=True)
class Cell:
    source: str
    target: str
    address: str  # the address probed; by name, the address the name resolved to ("" none)
    expected: bool
    why: str
    actual: bool
    detail: str  # "ok", "no reply", "send: Operation not permitted", "no such name", ...
    cause: str = ""  # the likely cause of a contradiction
    tcp: tuple[Port, ...] = ()
    segment: str = ""  # how a person names the segment: a bridge, a Docker network, a veth
    name: str = ""  # the name probed, for a probe by name

    @property
    def contradiction(self) -> bool:
        return self.expected != self.actual

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.target, f"name {self.name}" if self.name else self.segment)

    @property
    def via(self) -> str:
        """The probe for a person: the address, or the name and what it resolved to."""
        if not self.name:
            return self.address
        return f"{self.name} = {self.address}" if self.address else self.name


@dataclass(frozen=True)
class Matrix:
    host: str
    endpoints: tuple[str, ...]
    cells: tuple[Cell, ...]
    seconds: float = 0.0  # the prober's own time on the host
    rules: tuple[str, ...] = ()  # the rules that refined the expectation

    @property
    def contradictions(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.contradiction)

    @property
    def holds(self) -> bool:
        return not self.contradictions

    def to_json(self) -> dict[str, Any]:
        """For machines (`recipe reach --json`): every field of every pair."""
        return {
            "host": self.host,
            "holds": self.holds,
            "endpoints": list(self.endpoints),
            "seconds": self.seconds,
            "rules": list(self.rules),
            "pairs": [dataclasses.asdict(c) for c in self.cells],
        }


def to_data(matrix: Matrix) -> Any:
    """For a transcript: each field left out that holds its default."""
    return state_json.to_data(matrix)


def from_data(data: object, root: str = "matrix") -> Matrix:
    """A Matrix from a transcript's data, strictly (it is never trusted); StateError says where."""
    return state_json.read_as(Matrix, data, root)
