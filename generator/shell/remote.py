"""`--host` values to shells: local or one SSH host, and --host values assigned to the roles of
a multi-host lab (in the order of its roles, or as ROLE=HOST in any order)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from generator.errors import UserError
from generator.shell.base import Shell
from generator.visible import plural

LOCAL = "local"


def one(host: str, identity: Path | None = None, strict: bool = False) -> Shell:
    """The shell for one --host value."""
    if host == LOCAL:
        from generator.shell.local import LocalShell

        return LocalShell()
    from generator.shell.ssh import SSHShell
    from generator.shell.ssh_target import resolve

    return SSHShell(resolve(host, str(identity) if identity else None), strict_host_key=strict)


def assign(
    hosts: Sequence[str], roles: Sequence[str], defaults: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Role -> host for a multi-host script, from positional or ROLE=HOST values; a role given
    none takes its default, where it has one."""
    defaults = defaults or {}
    named = {}
    positional = []
    for value in hosts:
        role, sep, host = value.partition("=")
        if sep and role in roles:
            named[role] = host
        else:
            positional.append(value)
    free = [role for role in roles if role not in named]
    needed = [role for role in free if role not in defaults]
    if not len(needed) <= len(positional) <= len(free):
        raise UserError(
            f"this lab runs on {plural(len(roles), 'host')} (roles {', '.join(roles)}): give one "
            f"--host per role, in that order, or as ROLE=HOST; got {len(hosts)}"
        )
    named.update(zip(free, positional, strict=False))
    return {role: named[role] if role in named else defaults[role] for role in roles}
