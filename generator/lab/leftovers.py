"""What a lab leaves behind: snapshot the machine's network state before and after, and compare.

One shell command prints every section, so a snapshot costs one round trip on any transport.
Docker's containers and networks are read through the SDK (generator/hosts/engine.py): on this
machine from the engine's socket, beside that one command; on a remote host the same command
also prints `docker inspect` JSON, read into the SDK's models (docs/state.md says why).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.hosts import engine

if TYPE_CHECKING:
    from docker import DockerClient

SNAPSHOT_COMMAND = r"""
echo '@netns'; ip netns list 2>/dev/null | cut -d' ' -f1
echo '@link'; ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1
for t in filter nat; do
  echo "@iptables-$t"; iptables -w -t "$t" -S 2>/dev/null | grep -v '^-P '
done
echo '@end'
""".strip()

# The remote way: the JSON the SDK would have fetched, in observe's sections (state_build
# reads them). Nothing when docker is missing or its engine down, as on this machine.
DOCKER_JSON_COMMAND = r"""
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo '@@rcp docker-containers'; ids=$(docker ps -aq)
  if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi
  echo '@@rcp docker-networks'; docker network inspect $(docker network ls -q)
fi
""".strip()
_JSON_START = "@@rcp "

KINDS = ("netns", "link", "container", "network", "iptables-filter", "iptables-nat")
Items = set[tuple[str, str]]


@dataclass(frozen=True)
class Snapshot:
    items: frozenset[tuple[str, str]]

    def added_since(self, before: Snapshot) -> list[tuple[str, str]]:
        return sorted(self.items - before.items)


def parse(output: str) -> Snapshot:
    items: Items = set()
    kind = ""
    for line in output.splitlines():
        if line.startswith("@"):
            kind = line[1:]
            continue
        if kind in KINDS and line.strip():
            items.add((kind, line.strip()))
    return Snapshot(frozenset(items))


def take(
    run: Callable[[str], str], docker: bool = True, docker_json: bool | None = None
) -> Snapshot:
    """Snapshot with any way of running a shell command and getting its stdout.

    docker=False leaves Docker out (and the SDK unimported), for a lab that never calls docker
    and so cannot have made any. docker_json: read Docker from the JSON the shell prints (the
    remote way) rather than this machine's socket; None decides by the shell `run` belongs to:
    the socket for a LocalShell, JSON for any other. A multi-host lab's shells are each read
    their own way, every name prefixed with its role as RoleShells.output_of does.
    """
    from generator.shell.multi import RoleShells

    owner = getattr(run, "__self__", None)
    if not isinstance(owner, RoleShells):
        return Snapshot(frozenset(_take_one(run, owner, docker, docker_json)))
    items: Items = set()
    for role, shell in owner.shells.items():
        found = _take_one(shell.output_of, shell, docker, docker_json)
        items |= {(kind, f"{role}:{name}") for kind, name in found}
    return Snapshot(frozenset(items))


def take_local() -> Snapshot:
    import subprocess

    def run(command: str) -> str:
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
        return done.stdout

    return Snapshot(frozenset(_take_one(run, None, True, docker_json=False)))


# The kernel destroys a deleted namespace's devices, and with them the host ends of its veths,
# a moment later, in a worker of its own: a link can outlive `ip netns delete` by some 100 ms.
SETTLE_SECONDS = 2.0
_ASYNC_KINDS = frozenset({"link", "netns"})


def settled(
    before: Snapshot, take: Callable[[], Snapshot], seconds: float = SETTLE_SECONDS
) -> list[tuple[str, str]]:
    """What is left since `before`, asked again while only links and namespaces are left, and
    they are still going, for up to `seconds`: nothing a lab removed is called a leftover for
    being removed a moment late. Costs nothing when the first look finds nothing."""
    deadline = time.monotonic() + seconds
    added = take().added_since(before)
    while added and {kind for kind, _ in added} <= _ASYNC_KINDS and time.monotonic() < deadline:
        time.sleep(0.05)
        added = take().added_since(before)
    return added


def describe(items: list[tuple[str, str]]) -> str:
    return ", ".join(f"{kind} {name}" for kind, name in items)


def _take_one(
    run: Callable[[str], str], owner: object, docker: bool, docker_json: bool | None
) -> Items:
    if not docker:
        return set(parse(run(SNAPSHOT_COMMAND)).items)
    if docker_json is None:
        from generator.shell.local import LocalShell

        docker_json = not isinstance(owner, LocalShell)
    if not docker_json:
        return set(parse(run(SNAPSHOT_COMMAND)).items) | _socket_names()
    output = run(f"{SNAPSHOT_COMMAND}\n{DOCKER_JSON_COMMAND}")
    at = output.find(_JSON_START)
    head, tail = (output, "") if at < 0 else (output[:at], output[at:])
    return set(parse(head).items) | _json_names(tail)


def _socket_names() -> Items:
    """This machine's containers and networks through the SDK; none when the engine is down,
    as the CLI's snapshot found none (preflight says so, not the leftover check)."""

    def names(client: DockerClient) -> Items:
        api = client.api  # the list endpoints: one request each, no inspect per container
        found = {
            ("container", n.lstrip("/")) for c in api.containers(all=True) for n in c["Names"][:1]
        }
        return found | {("network", str(n["Name"])) for n in api.networks()}

    try:
        return engine.read(names)
    except engine.EngineError:
        return set()


def _json_names(output: str) -> Items:
    """Names from the JSON a remote host printed, read into the SDK's models."""
    from generator.transcript import state_build

    found = state_build.docker_from_output(output)
    if found is None or isinstance(found, str):
        return set()  # no docker or no engine there: nothing of Docker's can be left
    try:
        containers = engine.containers(found.containers)
        networks = engine.networks(found.networks)
    except engine.EngineError:
        return set()
    return {("container", c.name) for c in containers if c.name} | {
        ("network", n.name) for n in networks if n.name
    }
