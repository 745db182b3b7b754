"""The teardown of a recorded session: what the machine holds after it and did not before
(generator/lab/leftovers.py), turned into the commands that remove it, and the name guard that
keeps a replay from starting over those names.

Every name comes from the machine, not from us, so each is one shell-quoted word (shlex.quote)
behind the keyword or `--` that makes the tool read it as a name, never as an option. The order
is the safe one: containers before the networks they use, the firewall rules, then links, and
the namespaces last. Each command tolerates what is gone already (`2>/dev/null`): a veth goes
with its peer, Docker's rules go with its network.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from generator.recipes.guard import Claim, reserved

# Interface names Docker makes and removes with its containers and networks.
_DOCKER_LINK = re.compile(r"br-[0-9a-f]{12}|veth[0-9a-f]{7}")
_QUIET = " 2>/dev/null"
_WHAT = {
    "netns": "network namespace",
    "link": "interface",
    "container": "container",
    "network": "Docker network",
}
_TEST = {
    "netns": "[ ! -e /run/netns/{q} ]",
    "link": "! ip link show dev {q} >/dev/null 2>&1",
    "container": "! docker container inspect -- {q} >/dev/null 2>&1",
    "network": "! docker network inspect -- {q} >/dev/null 2>&1",
}


@dataclass(frozen=True)
class Teardown:
    commands: tuple[str, ...]  # in the order they run
    guards: tuple[str, ...]  # the `#@ guard` lines; none when nothing was made
    removes: tuple[tuple[str, str], ...]  # (kind, name) of what the commands remove
    kept: tuple[str, ...]  # what was added but is not the session's to remove, and why


def plan(added: Iterable[tuple[str, str]]) -> Teardown:
    """The teardown for what a session added: (kind, name) items as leftovers.Snapshot has them."""
    items = sorted(set(added))
    docker = any(kind in ("container", "network") for kind, _ in items)
    commands: list[str] = []
    removes: list[tuple[str, str]] = []
    kept: list[str] = []
    for kind, name in _in_order(items):
        why = _not_ours(kind, name, docker)
        if why:
            kept.append(f"{kind} {name}: {why}")
            continue
        command = _remove(kind, name)
        if command is None:
            kept.append(f"{kind} {name}: not a rule recipe can read back")
            continue
        commands.append(command)
        removes.append((kind, name))
    return Teardown(tuple(commands), tuple(_guard(removes)), tuple(removes), tuple(kept))


_ORDER = ("container", "network", "iptables-nat", "iptables-filter", "link", "netns")


def _in_order(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Containers, networks, rules (a chain's own rules before the chain), links, namespaces."""

    def key(item: tuple[str, str]) -> tuple[int, int, str]:
        kind, name = item
        rank = _ORDER.index(kind) if kind in _ORDER else len(_ORDER)
        return rank, 1 if name.startswith("-N ") else 0, name

    return sorted(items, key=key)


def _not_ours(kind: str, name: str, docker: bool) -> str:
    """Why an added item is left alone, or "" when the teardown removes it."""
    docker_named = kind == "link" and _DOCKER_LINK.fullmatch(name) is not None
    if docker and docker_named:
        # Docker's veth or bridge goes with its container or network; a replay makes others,
        # under other names, which may by then be someone else's.
        return "Docker's, removed with its container or network"
    if kind in ("link", "network") and not docker_named and (why := reserved(Claim(kind, name))):
        return f"{why}: never removed"  # docker0 appears when the engine starts meanwhile
    if docker and kind.startswith("iptables-") and _chain(name).startswith("DOCKER"):
        return "Docker's own rule, removed with its network or container"
    return ""


def _chain(rule: str) -> str:
    words = rule.split()
    return words[1] if len(words) > 1 else ""


def _remove(kind: str, name: str) -> str | None:
    q = shlex.quote(name)
    if kind == "container":
        return f"docker rm -f -- {q} >/dev/null{_QUIET}"
    if kind == "network":
        return f"docker network rm -- {q} >/dev/null{_QUIET}"
    if kind == "link":
        return f"ip link delete dev {q}{_QUIET}"
    if kind == "netns":
        return f"ip netns delete {q}{_QUIET}"
    if kind.startswith("iptables-"):
        return _iptables(kind.removeprefix("iptables-"), name)
    return None


def _iptables(table: str, rule: str) -> str | None:
    """`-A CHAIN ARGS` (as `iptables -S` prints it) to `iptables -t T -D CHAIN ARGS`; `-N CHAIN`
    to `-X CHAIN`. Each word is quoted again: the rule's text is the machine's."""
    try:
        words = shlex.split(rule)
    except ValueError:
        return None
    if len(words) < 2 or words[0] not in ("-A", "-N"):
        return None
    action = ["-D", *words[1:]] if words[0] == "-A" else ["-X", words[1]]
    where = "" if table == "filter" else f"-t {shlex.quote(table)} "
    return f"iptables -w {where}{' '.join(shlex.quote(word) for word in action)}{_QUIET}"


def _guard(removes: list[tuple[str, str]]) -> list[str]:
    """`TEST || taken MESSAGE` per name the teardown would remove, as rendered labs have it."""
    named = [(kind, name) for kind, name in removes if kind in _TEST]
    if not named:
        return []
    lines = ['taken() { echo "lab.sh: $1" >&2; exit 2; }']
    for kind, name in named:
        message = f"{_WHAT[kind]} {name} already exists; remove it first: the teardown deletes it"
        test = _TEST[kind].format(q=shlex.quote(name))
        lines.append(f"{test} || taken {shlex.quote(message)}")
    return lines
