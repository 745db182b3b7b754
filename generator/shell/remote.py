"""`--host` values to shells: local, one SSH host, or one host per role of a multi-host lab.

A single-host script takes one --host. A multi-host script (`#@ hosts ROLE...`) takes one --host
per role, in the order of its roles, or as ROLE=HOST in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from generator.errors import UserError
from generator.lab.script import Script
from generator.shell.base import Shell

LOCAL = "local"


def one(host: str, identity: Path | None = None, strict: bool = False) -> Shell:
    """The shell for one --host value."""
    if host == LOCAL:
        from generator.shell.local import LocalShell

        return LocalShell()
    from generator.shell.ssh import SSHShell
    from generator.shell.ssh_target import resolve

    return SSHShell(resolve(host, str(identity) if identity else None), strict_host_key=strict)


def assign(hosts: Sequence[str], roles: Sequence[str]) -> dict[str, str]:
    """Role -> host for a multi-host script, from positional or ROLE=HOST values."""
    named = {}
    positional = []
    for value in hosts:
        role, sep, host = value.partition("=")
        if sep and role in roles:
            named[role] = host
        else:
            positional.append(value)
    free = [role for role in roles if role not in named]
    if len(positional) != len(free):
        raise UserError(
            f"this lab runs on {len(roles)} hosts (roles {', '.join(roles)}): give one --host per "
            f"role, in that order, or as ROLE=HOST; got {len(hosts)}"
        )
    named.update(zip(free, positional, strict=True))
    return {role: named[role] for role in roles}


def connect_hosts(
    hosts: Sequence[str], script: Script, identity: Path | None = None, strict: bool = False
) -> tuple[Shell, str]:
    """The shell the runner uses, and how the run's target is written in the transcript."""
    if not script.hosts:
        if len(hosts) > 1:
            raise UserError(f"{script.source} runs on one host; give --host once")
        host = hosts[0] if hosts else LOCAL
        return one(host, identity, strict), host
    unknown = sorted({s.host for s in script.all_steps if s.host and s.host not in script.hosts})
    if unknown:
        raise UserError(f"{script.source}: steps run on {', '.join(unknown)}, not among its hosts")
    roles = assign(hosts, script.hosts)
    from generator.shell.multi import RoleShells

    shells = RoleShells({role: one(host, identity, strict) for role, host in roles.items()})
    label = ",".join(host if host == role else f"{role}={host}" for role, host in roles.items())
    return shells, label
