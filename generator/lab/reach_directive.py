"""`#@ reach` (issue 13): after the step it marks, probe every pair of the lab's endpoints and
fail the run when the matrix does not hold (docs/reach.md).

    #@ reach                         every pair, expected from the observed topology
    #@ reach c3 -> c1: no; on my-net: yes
    #@ reach only c*; tcp 80         only the endpoints matching c*, and TCP port 80 too
    #@ reach with-host               count the host itself as an endpoint
    #@ reach by-name; c2 -> c1 by name: yes    containers also look each other up by name

The value is `;`-separated parts: rules (generator/lab/reach_rules.py) or the options `only
GLOB...`, `tcp PORT...`, `with-host` and `by-name`. Several `#@ reach` lines before one step
add up. A transcript keeps the lines as written, so replay probes again with the same spec.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from generator.errors import UserError
from generator.lab import reach_rules

_OPTIONS = ("only", "tcp", "with-host", "by-name")


@dataclass(frozen=True)
class ReachSpec:
    lines: tuple[str, ...] = ()  # the directives' values as written
    rules: tuple[reach_rules.Rule, ...] = ()
    only: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    with_host: bool = False
    by_name: bool = False


def add(spec: ReachSpec | None, value: str, where: str) -> ReachSpec:
    """The spec with one more `#@ reach` line; where (`file:line`) prefixes a UserError."""
    spec = spec or ReachSpec()
    only, ports, with_host, by_name = (
        list(spec.only),
        list(spec.ports),
        spec.with_host,
        spec.by_name,
    )
    rules = list(spec.rules)
    for part in (p.strip() for p in re.split(r"[;\n]", value)):
        word, _, rest = part.partition(" ")
        if not part:
            continue
        if word == "only" and rest.split():
            only += rest.split()
        elif word == "tcp" and rest.split():
            ports += [_port(p, where) for p in rest.split()]
        elif part == "with-host":
            with_host = True
        elif part == "by-name":
            by_name = True
        elif "->" in part or part.startswith("on "):
            try:
                rules += reach_rules.parse([part])
            except UserError as exc:
                raise UserError(f"{where}: {exc}") from None
        else:
            raise UserError(
                f"{where}: bad '#@ reach' part {part!r}: write rules (`A -> B: yes|no`, "
                f"`on NET: yes|no`) or {', '.join(_OPTIONS)}, separated by ';'"
            )
    return dataclasses.replace(
        spec,
        lines=(*spec.lines, value.strip()),
        rules=tuple(rules),
        only=tuple(only),
        ports=tuple(ports),
        with_host=with_host,
        by_name=by_name,
    )


def of_lines(lines: Sequence[str], where: str) -> ReachSpec:
    """The spec a transcript recorded (its `directive:` lines), read again."""
    spec = ReachSpec()
    for line in lines:
        spec = add(spec, line, where)
    return spec


def _port(text: str, where: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UserError(f"{where}: '#@ reach tcp {text}': a TCP port is a number from 1 to 65535")
    return int(text)
