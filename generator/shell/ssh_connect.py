"""Open an authenticated paramiko connection to an SSHTarget, checking its host key on purpose.

Host keys: a key already known must match, whatever the mode (paramiko raises BadHostKeyException
for a mismatch before any policy is asked). An unknown key is accepted on first use into the tool's
own known_hosts, as OpenSSH's `StrictHostKeyChecking accept-new` does; with strict=True (the
command line) or the target's strict_by (the user's ~/.ssh/config) it is refused. A key marked
`@revoked` in any file read is refused always. The user's known_hosts files are read, never written;
they are parsed here line by line (generator/shell/known_hosts.py), because paramiko's loader raises
on `@revoked` and `@cert-authority` lines.

Every failure becomes an SSHError subclass with one clear line; these are UserErrors, so the CLI
prints them without a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import UserError
from generator.shell import known_hosts
from generator.shell.ssh_target import SSHTarget

if TYPE_CHECKING:
    import socket

    import paramiko

CONNECT_TIMEOUT = 10.0


class SSHError(UserError):
    """A remote host could not be used; the message says why and what to do."""


class HostUnreachable(SSHError):
    pass


class AuthRefused(SSHError):
    pass


class HostKeyChanged(SSHError):
    pass


class HostKeyUnknown(SSHError):
    pass


class HostKeyRevoked(SSHError):
    pass


def fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


def _known_name(target: SSHTarget) -> str:
    return target.hostname if target.port == 22 else f"[{target.hostname}]:{target.port}"


def _policy(
    target: SSHTarget, strict: bool, known: known_hosts.KnownHosts
) -> paramiko.MissingHostKeyPolicy:
    import paramiko

    class AcceptNew(paramiko.MissingHostKeyPolicy):
        """Only asked for keys not known at all; a changed key never reaches here."""

        def missing_host_key(
            self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
        ) -> None:
            if known.is_revoked(key):
                raise _revoked(target, key)
            if known.has_authority_for(hostname):
                # The user trusts this host through a CA; accepting any key on first use would
                # quietly undo that, and paramiko cannot check the certificate.
                raise HostKeyUnknown(
                    f"{target.name}: known_hosts trusts this host through a @cert-authority line, "
                    "and recipe (paramiko) cannot check host certificates; add the host's own key "
                    f"({fingerprint(key)}) to {target.known_hosts} after checking it"
                )
            if strict or target.strict_by:
                why = "--strict-host-key is set" if strict else f"{target.strict_by} says so"
                raise HostKeyUnknown(
                    f"{target.name}: host key {fingerprint(key)} is not known and {why}; "
                    f"add it to {target.known_hosts} after checking it"
                )
            remember(target.known_hosts, hostname, key)
            print(
                f"recipe: accepted new host key for {target.name} ({fingerprint(key)}) "
                f"into {target.known_hosts}",
                file=sys.stderr,
            )

    return AcceptNew()


def _revoked(target: SSHTarget, key: paramiko.PKey) -> HostKeyRevoked:
    return HostKeyRevoked(
        f"{target.name}: the host key {fingerprint(key)} is marked @revoked in known_hosts; "
        "refusing to connect: this key is never accepted. Ask the host's owner for its new key"
    )


def _known_hosts(target: SSHTarget) -> known_hosts.KnownHosts:
    """The user's files (when trusted), then the tool's own: the first key of a type wins."""
    known = known_hosts.KnownHosts()
    if target.trust_user_known_hosts:
        paths = [Path(p).expanduser() for p in target.user_known_hosts]
        try:
            known_hosts.read(paths, known)
        except OSError as exc:
            raise SSHError(f"cannot read known_hosts: {exc.strerror or exc}") from None
    try:
        known_hosts.read([target.known_hosts], known)
    except OSError as exc:
        raise SSHError(f"cannot read {target.known_hosts}: {exc.strerror or exc}") from None
    return known


def remember(path: Path, hostname: str, key: paramiko.PKey) -> None:
    """Append one known_hosts line; the file and its folder are private to the user."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
    path.chmod(0o600)


def connect(
    target: SSHTarget, strict: bool = False, timeout: float = CONNECT_TIMEOUT
) -> paramiko.SSHClient:
    """An authenticated client, or an SSHError that names the host and the reason."""
    import paramiko

    client = paramiko.SSHClient()
    known = _known_hosts(target)
    # Only the keys for this one host are handed to paramiko, under the exact name it looks up:
    # it then prefers their key type in the handshake and compares the key, and a revoked key is
    # never among them. Nothing is ever saved from this table.
    name = _known_name(target)
    table, types = client.get_host_keys(), set()
    for key in known.keys_for(name):
        if key.get_name() not in types:  # paramiko keeps one key a type: the first, as before
            types.add(key.get_name())
            table.add(name, key.get_name(), key)
    client.set_missing_host_key_policy(_policy(target, strict, known))
    try:
        _authenticate(client, target, timeout, known)
    except BaseException:
        client.close()
        raise
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(15)
    return client


def _authenticate(
    client: paramiko.SSHClient, target: SSHTarget, timeout: float, known: known_hosts.KnownHosts
) -> None:
    import paramiko

    where = target.name if target.name == target.label else f"{target.name} ({target.label})"
    try:
        client.connect(
            target.hostname,
            port=target.port,
            sock=_socket(target, timeout),
            username=target.user,
            key_filename=list(target.identities) or None,  # type: ignore[arg-type]
            look_for_keys=not target.identities,
            allow_agent=not target.identities,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
        )
    except paramiko.BadHostKeyException as exc:
        if known.is_revoked(exc.key):
            raise _revoked(target, exc.key) from None
        raise HostKeyChanged(
            f"{where}: the host key has CHANGED: expected {fingerprint(exc.expected_key)}, got "
            f"{fingerprint(exc.key)}. Refusing to connect: this may be another machine or an "
            f"attack. If the host was rebuilt, remove the old key: "
            f"ssh-keygen -R {_known_name(target)} -f {target.known_hosts}"
        ) from None
    except paramiko.AuthenticationException as exc:
        if sys.stdin.isatty() and not isinstance(exc, paramiko.BadAuthenticationType):
            _with_password(client, target, timeout)
            return
        keys = ", ".join(target.identities) or "keys from ~/.ssh and the agent"
        raise AuthRefused(
            f"{where} refused authentication for user {target.user} ({exc}); tried {keys}. "
            "Pass --identity KEY, or run interactively to type a password"
        ) from None
    except TimeoutError:
        raise HostUnreachable(f"{where}: no answer within {timeout:g} s") from None
    except paramiko.ssh_exception.NoValidConnectionsError as exc:
        reasons = "; ".join(
            sorted({getattr(e, "strerror", None) or str(e) for e in exc.errors.values()})
        )
        raise HostUnreachable(f"{where}: cannot connect: {reasons}") from None
    except OSError as exc:
        raise HostUnreachable(f"{where}: cannot connect: {exc.strerror or exc}") from None
    except paramiko.SSHException as exc:
        raise SSHError(f"{where}: SSH failed: {exc}") from None


def _with_password(client: paramiko.SSHClient, target: SSHTarget, timeout: float) -> None:
    """Passwords only ever come from a person at the terminal, never from options or files."""
    import getpass

    import paramiko

    password = getpass.getpass(f"password for {target.label}: ")
    try:
        client.connect(
            target.hostname,
            port=target.port,
            sock=_socket(target, timeout),
            username=target.user,
            password=password,
            look_for_keys=False,
            allow_agent=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
        )
    except paramiko.AuthenticationException:
        raise AuthRefused(f"{target.name}: the password for {target.label} was refused") from None


def _socket(target: SSHTarget, timeout: float) -> socket.socket | None:
    """A connection made inside the host's network namespace, for the virtual nodes; else None:
    paramiko connects by itself."""
    if not target.netns:
        return None
    if not Path(target.netns).exists():
        raise HostUnreachable(
            f"{target.name}: its network namespace {target.netns} is gone (the virtual nodes are "
            "down, or the machine restarted); run `recipe hosts up`"
        )
    from generator.shell.netns_socket import connect_in

    return connect_in(target.netns, (target.hostname, target.port), timeout)
