"""OpenSSH known_hosts files, read line by line as OpenSSH reads them.

paramiko's own loader raises InvalidHostKey on a `@revoked` or `@cert-authority` line and drops
the whole file; OpenSSH reads both. Here:
- a plain line gives the keys a host may present (host patterns: names, `*`/`?` wildcards,
  `!negation`, `[host]:port`, and hashed `|1|` names);
- `@revoked` marks a key that is never accepted, for any host: its private half is out;
- `@cert-authority` is remembered only to say why a host it covers cannot be checked: paramiko
  does not verify host certificates. Plain keys of the same host still work;
- a line that cannot be read (a damaged key, an unknown key type) is skipped, as OpenSSH does.

Files are only read, never written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paramiko

REVOKED = "@revoked"
CERT_AUTHORITY = "@cert-authority"
MAX_BYTES = 16 * 1024 * 1024  # far larger than any real file; /dev/zero must not fill memory


@dataclass
class KnownHosts:
    """What one or more known_hosts files say, in file order (the first key of a type wins)."""

    keys: list[tuple[tuple[str, ...], paramiko.PKey]] = field(default_factory=list)
    revoked: list[paramiko.PKey] = field(default_factory=list)
    authorities: list[tuple[str, ...]] = field(default_factory=list)

    def keys_for(self, name: str) -> list[paramiko.PKey]:
        """The keys NAME ([host]:port off port 22) may present; revoked keys never."""
        return [
            key
            for patterns, key in self.keys
            if matches(name, patterns) and not self.is_revoked(key)
        ]

    def is_revoked(self, key: paramiko.PKey) -> bool:
        return any(key == bad for bad in self.revoked)

    def has_authority_for(self, name: str) -> bool:
        return any(matches(name, patterns) for patterns in self.authorities)


def parse(text: str, into: KnownHosts | None = None) -> KnownHosts:
    """Add every usable line of TEXT to INTO (a new KnownHosts by default)."""
    known = into if into is not None else KnownHosts()
    for line in text.splitlines():
        _add_line(known, line.strip())
    return known


def read(paths: list[Path], into: KnownHosts | None = None) -> KnownHosts:
    """The files in order; a missing one is empty, as for OpenSSH. OSError otherwise."""
    known = into if into is not None else KnownHosts()
    for path in paths:
        if str(path) in ("/dev/null", "none"):
            continue
        try:
            if not path.is_file():  # a FIFO would hang, a device never end
                if path.exists():
                    raise OSError(f"{path} is not a regular file")
                continue
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES)
        except FileNotFoundError:
            continue
        parse(data.decode("utf-8", "replace"), known)
    return known


def _add_line(known: KnownHosts, line: str) -> None:
    if not line or line.startswith("#"):
        return
    marker = ""
    if line.startswith("@"):
        marker, _, line = line.partition(" ")
        line = line.strip()
    entry = _entry(line)
    if entry is None:
        return
    patterns, key = entry
    if marker == REVOKED:
        known.revoked.append(key)
    elif marker == CERT_AUTHORITY:
        known.authorities.append(patterns)
    elif not marker:  # an unknown marker: OpenSSH skips the line too
        known.keys.append((patterns, key))


def _entry(line: str) -> tuple[tuple[str, ...], paramiko.PKey] | None:
    """The host patterns and key of one line, or None when paramiko cannot use it."""
    from paramiko.hostkeys import HostKeyEntry

    try:
        entry = HostKeyEntry.from_line(line)
    # A damaged line of a file recipe does not own must not stop a connection, whatever
    # paramiko's parser raises for it (InvalidHostKey, SSHException, ValueError, struct errors).
    except Exception:  # noqa: BLE001
        return None
    if entry is None or entry.key is None or not entry.hostnames:
        return None
    return tuple(entry.hostnames), entry.key


def matches(name: str, patterns: tuple[str, ...]) -> bool:
    """OpenSSH's rule: some pattern matches and no negated one does."""
    hit = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _one(name, pattern[1:] if negated else pattern):
            if negated:
                return False
            hit = True
    return hit


def _one(name: str, pattern: str) -> bool:
    if pattern.startswith("|1|"):
        import binascii
        import hmac

        from paramiko.hostkeys import HostKeys

        try:
            hashed = HostKeys.hash_host(name, pattern)
        except (ValueError, AssertionError, IndexError, binascii.Error):  # a damaged salt
            return False
        return hmac.compare_digest(hashed, pattern)
    return _glob(pattern).fullmatch(name.lower()) is not None


def _glob(pattern: str) -> re.Pattern[str]:
    """OpenSSH patterns know only `*` and `?`: `[host]:port` is literal, not a character class."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.compile("".join(parts), re.DOTALL)
