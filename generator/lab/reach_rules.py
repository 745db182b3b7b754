"""Rules that refine the expected reachability matrix, one a line or separated by `;`:

    a -> b: no        a does not reach b (every address of b)
    a -> b by name: yes  a reaches b by its name (with --by-name)
    * -> b: yes       every endpoint reaches b; `a -> *` alike
    10.0.0.2 -> b: no an endpoint by one of its addresses (only the lab's own)
    on NET: yes       the endpoints on NET (a Docker network or a bridge) reach each other

Later rules win. An unknown endpoint, an address outside the lab, a rule that matches no pair
and a line that is none of these are each one line, exit status 2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.errors import UserError

if TYPE_CHECKING:  # a script's `#@ reach` lines are parsed without loading the prober
    from generator.lab.reach import Address, Endpoint, Expectation

    # (source endpoint name, target endpoint name, target address) -> what is expected
    Pairs = dict[tuple[str, str, str], Expectation]

_PAIR = re.compile(r"\s*(\S+)\s*->\s*(\S+?)(\s+by\s+name)?\s*:\s*(yes|no)\s*", re.IGNORECASE)
_ON = re.compile(r"\s*on\s+(\S+)\s*:\s*(yes|no)\s*", re.IGNORECASE)
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")
ANY = "*"
NAME = "name:"  # the third part of a key by name (generator/lab/reach_names.py)


@dataclass(frozen=True)
class Rule:
    text: str
    reach: bool
    source: str = ""  # an endpoint's name, one of its addresses, or *
    target: str = ""
    network: str = ""  # `on NETWORK`; source and target are then ""
    by_name: bool = False  # `a -> b by name: ...`: the probes by name, not by address


def parse(texts: Sequence[str]) -> list[Rule]:
    """Rules from `--rule` values or a `#@ reach` line: each may hold several, split by `;`."""
    rules = []
    for text in texts:
        for part in re.split(r"[;\n]", text):
            if part.strip():
                rules.append(_one(part.strip()))
    return rules


def _one(text: str) -> Rule:
    pair = _PAIR.fullmatch(text)
    if pair:
        yes = pair[4].lower() == "yes"
        return Rule(text, yes, source=pair[1], target=pair[2], by_name=bool(pair[3]))
    on = _ON.fullmatch(text)
    if on:
        return Rule(text, on[2].lower() == "yes", network=on[1])
    raise UserError(
        f"bad reach rule {text!r}: write `A -> B: yes|no` (A, B an endpoint, its address or *) "
        "or `on NETWORK: yes|no`"
    )


def apply(rules: Sequence[Rule], found: Sequence[Endpoint], pairs: Pairs) -> Pairs:
    """The expectations with each rule applied in turn; raises UserError for a rule that names
    an unknown endpoint, an address outside the lab, or matches no pair."""
    from generator.lab.reach import Expectation, check_targets

    result = dict(pairs)
    by_name = {e.name: e for e in found}
    for rule in rules:
        for word in (rule.source, rule.target):
            if word and word != ANY and not _IP.fullmatch(word) and word not in by_name:
                _names(word, "", None, by_name, found)  # raises: unknown endpoint
            if word and _IP.fullmatch(word):
                check_targets(found, [word])
        matched = [key for key in result if _matches(rule, key, by_name, found)]
        if not matched:
            what = f"no endpoint is on {rule.network}" if rule.network else "it names no pair"
            raise UserError(f"reach rule `{rule.text}` matches nothing: {what}")
        for key in matched:
            result[key] = Expectation(rule.reach, f"rule `{rule.text}`")
    return result


def _matches(
    rule: Rule,
    key: tuple[str, str, str],
    by_name: Mapping[str, Endpoint],
    found: Sequence[Endpoint],
) -> bool:
    source, target, address = key
    if address.startswith(NAME) != rule.by_name:
        return False
    if rule.network:
        return _on(rule.network, by_name[source], _address_of(by_name[target], address))
    return _names(rule.source, source, None, by_name, found) and _names(
        rule.target, target, address, by_name, found
    )


def _names(
    word: str,
    name: str,
    address: str | None,
    by_name: Mapping[str, Endpoint],
    found: Sequence[Endpoint],
) -> bool:
    """Whether a rule's word names this endpoint (a target also by the address probed)."""
    if word == ANY:
        return True
    if _IP.fullmatch(word):
        from generator.lab.reach import check_targets

        check_targets(found, [word])
        holder = by_name[name]
        return word == address if address is not None else word in {a.ip for a in holder.addresses}
    if word not in by_name:
        known = ", ".join(sorted(by_name)[:12]) + (", ..." if len(by_name) > 12 else "")
        raise UserError(f"unknown endpoint {word} in reach rule: the lab's endpoints are {known}")
    return word == name


def _address_of(endpoint: Endpoint, ip: str) -> Address:
    return next(a for a in endpoint.addresses if a.ip == ip)


def _on(network: str, source: Endpoint, target: Address) -> bool:
    """Both ends on NETWORK: a Docker network by name, or a bridge by its name."""
    if not _is_on(network, target):
        return False
    return any(_is_on(network, a) and a.segment == target.segment for a in source.addresses)


def _is_on(network: str, address: Address) -> bool:
    bridge = address.segment.rsplit("/", 1)[-1] if address.segment.startswith("bridge ") else ""
    return network in (address.network, bridge)
