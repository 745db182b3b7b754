"""Observe one host's network state through its Shell: `ip -j` in every namespace and Docker.

The whole `ip` side is ONE shell command (a round trip costs the same over SSH as locally, and
a process per fact would not fit the budget of docs/state.md): every namespace prints its links,
addresses, routes and netnsids through one `ip -batch` process, between marker lines that
generator/transcript/state_build.py reads.

Docker is read through the Docker SDK (generator/hosts/engine.py), imported only when a
snapshot is taken (`recipe render` never loads it). On this machine the SDK talks to the
engine's socket. On a remote host or a virtual node the same command prints `docker inspect`
JSON, and the SDK's models are built from it (docs/state.md says why).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.hosts import engine
from generator.lab import netlink
from generator.shell.base import Shell
from generator.transcript import state_build, state_parse
from generator.transcript.state import Snapshot

if TYPE_CHECKING:
    from docker import DockerClient

# One `ip` process per namespace: -batch runs the four listings in it, one JSON array a line.
# Named namespaces by name; every other mounted one (a container's sandbox, wherever its
# engine's exec-root puts it, e.g. a virtual node's) is found in the mount table, so no fixed
# Docker path is assumed and no stale sandbox file costs a process. A mount of another
# namespace type cannot be entered as a network namespace; its section holds no JSON and is
# dropped.
_IP_PART = r"""
_rcp_ip() { "$@" -j -d -batch - 2>&1 <<'RCP_EOF'
link show
addr show
route show
netns list-id
RCP_EOF
}
if ! command -v ip >/dev/null 2>&1; then echo '@@rcp missing ip'; else
  echo '@@rcp ns host host -'; _rcp_ip ip
  [ "${EUID:-0}" = 0 ] || echo '@@rcp unprivileged'
  for p in /run/netns/*; do
    [ -e "$p" ] || continue
    echo "@@rcp ns netns ${p##*/} $p"; _rcp_ip ip -n "${p##*/}"
  done
  mounted=$(grep ' - nsfs ' /proc/self/mountinfo 2>/dev/null | cut -d' ' -f5 | sort -u)
  while read -r p; do
    case "$p" in /run/netns/*|/var/run/netns/*|'') continue ;; esac
    echo "@@rcp ns mounted - $p"; _rcp_ip nsenter --net="$p" ip
  done <<RCP_EOF
$mounted
RCP_EOF
  # One namespace can be found twice (a container's, linked into /run/netns by hand): the
  # inodes tell, one stat for all.
  echo '@@rcp inodes'; stat -L -c '%i %n' /proc/self/ns/net /run/netns/* $mounted 2>/dev/null
fi
""".strip()

_IPTABLES_PART = r"""
if command -v iptables-save >/dev/null 2>&1; then echo '@@rcp iptables'; iptables-save 2>/dev/null
else echo '@@rcp missing iptables-save'; fi
""".strip()

# Remote Docker: the node prints the JSON the SDK would have fetched (docs/state.md).
_DOCKER_PART = r"""
if ! command -v docker >/dev/null 2>&1; then echo '@@rcp no-docker docker is not installed'
elif ! ctl=$(docker info -f '{{.Swarm.ControlAvailable}}' 2>/dev/null); then
  echo '@@rcp no-docker the Docker engine is not reachable'
else
  echo '@@rcp docker-containers'; ids=$(docker ps -aq)
  if [ -n "$ids" ]; then docker inspect $ids; else echo '[]'; fi
  echo '@@rcp docker-networks'; docker network inspect $(docker network ls -q)
  echo '@@rcp docker-nodes'
  if [ "$ctl" = true ]; then docker node inspect $(docker node ls -q); else echo '[]'; fi
fi
""".strip()

TIMEOUT = 60.0


def command(
    iptables: bool = False, docker: bool = False, ip: bool = True, python: bool = False
) -> str:
    """The batched command: the namespaces (unless read here, over netlink), iptables-save and
    Docker's JSON when asked. python: the host runs netlink.py when it has python3 and is root,
    `ip` otherwise."""
    parts = ([_with_python(_IP_PART)] if python else [_IP_PART]) if ip else []
    if iptables:
        parts.append(_IPTABLES_PART)
    if docker:
        parts.append(_DOCKER_PART)
    parts.append("echo '@@rcp end'")
    return "\n".join(parts)


def _with_python(fallback: str) -> str:
    """netlink.py as a script on the host, printing what `fallback` would: a process per host,
    not per namespace. Its output comes all at once, so a failure leaves nothing to mix."""
    source = Path(netlink.__file__).read_text(encoding="utf-8")
    # The system's python3 first: a wrapper on PATH (pyenv's shim) costs 60 ms more. -I -S: no
    # environment, no site-packages; the script needs the standard library only.
    return (
        '_rcp_py=/usr/bin/python3; [ -x "$_rcp_py" ] || _rcp_py=$(command -v python3)\n'
        'if [ "${EUID:-0}" = 0 ] && [ -n "$_rcp_py" ] && '
        f"\"$_rcp_py\" -I -S - <<'RCP_PY'\n{source}\nRCP_PY\nthen :; else\n{fallback}\nfi"
    )


def iptables_baseline(shell: Shell) -> frozenset[str]:
    """The firewall now, to compare a later snapshot with (take it before the lab runs)."""
    text = shell.run(_IPTABLES_PART, timeout=TIMEOUT).stdout
    body = text.split("@@rcp iptables\n", 1)[1] if "@@rcp iptables\n" in text else ""
    return state_parse.iptables_rules(body)


def take(
    shell: Shell,
    host: str = "local",
    baseline: frozenset[str] | None = None,
    docker_json: bool | None = None,
    docker: bool = True,
    ip_only: bool = False,
) -> Snapshot:
    """The state of the host behind `shell`. Never raises for a missing `ip`, iptables or Docker
    engine: the snapshot is then marked partial, with the reason.

    docker_json: read Docker from the JSON the shell prints (the remote way) rather than the
    engine's socket; None decides by the shell: the socket for this machine's own shell only.
    docker=False leaves Docker out (a lab that never calls docker made nothing there, and the
    SDK costs 0.2 to 0.5 s to import). ip_only: read the namespaces with `ip` processes, as a
    host without python3 is read (for the tests that hold the ways to one answer)."""
    local = _is_local(shell) if docker_json is None else not docker_json
    printed = docker and not local
    read = _netlink() if local and not ip_only else None
    wanted = command(
        iptables=baseline is not None,
        docker=printed,
        ip=read is None,
        python=not (local or ip_only),
    )
    output = shell.run(wanted, TIMEOUT).stdout
    problems: list[str] = []
    attrs: state_build.DockerAttrs | None = None
    found = (_local_docker() if local else _remote_docker(output)) if docker else None
    if isinstance(found, str):
        problems.append(found)
    else:
        attrs = found
    return state_build.build(host, output, attrs, problems, baseline, read or ())


def _netlink() -> list[netlink.Section] | None:
    """This machine's namespaces over netlink, in this process; None when it cannot (not
    root), and `ip` in the shell reads them instead."""
    try:
        return netlink.sections()
    except netlink.Unavailable:
        return None


def _is_local(shell: Shell) -> bool:
    from generator.shell.local import LocalShell

    return isinstance(shell, LocalShell)


def _local_docker() -> state_build.DockerAttrs | str:
    """This machine's engine through the SDK's socket client; a reason when it cannot."""
    try:
        return engine.read(_read_engine)
    except engine.EngineError as exc:
        return exc.message


def _read_engine(client: DockerClient) -> state_build.DockerAttrs:
    api = client.api
    containers = tuple(c.attrs for c in client.containers.list(all=True))
    # The list endpoint leaves out each network's members; inspect fills them in.
    networks = tuple(api.inspect_network(n["Id"]) for n in api.networks())
    swarm = (api.info().get("Swarm") or {}).get("ControlAvailable") is True
    nodes = tuple(n.attrs for n in client.nodes.list()) if swarm else ()
    return state_build.DockerAttrs(containers, networks, nodes)


def _remote_docker(output: str) -> state_build.DockerAttrs | str:
    """The remote host's JSON, read into the SDK's models as if the SDK had fetched it."""
    found = state_build.docker_from_output(output)
    if found is None:
        return "the host printed no Docker part"
    if isinstance(found, str):
        return found
    try:
        return state_build.DockerAttrs(
            tuple(_attrs(c) for c in engine.containers(found.containers)),
            tuple(_attrs(n) for n in engine.networks(found.networks)),
            tuple(_attrs(n) for n in engine.nodes(found.nodes)),
        )
    except engine.EngineError as exc:
        return exc.message


def _attrs(model: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = model.attrs
    return attrs
