"""What a lab leaves behind: snapshot the machine's network state before and after, and compare.

One shell command prints every section, so a snapshot costs one round trip on any transport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SNAPSHOT_COMMAND = r"""
echo '@netns'; ip netns list 2>/dev/null | cut -d' ' -f1
echo '@link'; ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo '@container'; docker ps -a --format '{{.Names}}'
  echo '@network'; docker network ls --format '{{.Name}}'
fi
for t in filter nat; do
  echo "@iptables-$t"; iptables -w -t "$t" -S 2>/dev/null | grep -v '^-P '
done
echo '@end'
""".strip()

KINDS = ("netns", "link", "container", "network", "iptables-filter", "iptables-nat")


@dataclass(frozen=True)
class Snapshot:
    items: frozenset[tuple[str, str]]

    def added_since(self, before: Snapshot) -> list[tuple[str, str]]:
        return sorted(self.items - before.items)


def parse(output: str) -> Snapshot:
    items: set[tuple[str, str]] = set()
    kind = ""
    for line in output.splitlines():
        if line.startswith("@"):
            kind = line[1:]
            continue
        if kind in KINDS and line.strip():
            items.add((kind, line.strip()))
    return Snapshot(frozenset(items))


_DOCKER_PART = SNAPSHOT_COMMAND[
    SNAPSHOT_COMMAND.index("if command -v docker") : SNAPSHOT_COMMAND.index("fi\n") + 3
]


def take(run: Callable[[str], str], docker: bool = True) -> Snapshot:
    """Snapshot with any way of running a shell command and getting its stdout.

    docker=False leaves out containers and networks (and the ~50 ms the docker CLI costs), for a
    lab that never calls docker and so cannot have made any.
    """
    return parse(run(SNAPSHOT_COMMAND if docker else SNAPSHOT_COMMAND.replace(_DOCKER_PART, "")))


def take_local() -> Snapshot:
    import subprocess

    done = subprocess.run(
        ["bash", "-c", SNAPSHOT_COMMAND], capture_output=True, text=True, check=False
    )
    return parse(done.stdout)


def describe(items: list[tuple[str, str]]) -> str:
    return ", ".join(f"{kind} {name}" for kind, name in items)
