"""Leases on stack nodes: a command that runs labs on a node holds its lease, so no other command
runs a lab there at the same time (their names would collide) or takes the node down under it.

A lease is an exclusive flock on /run/recipe-hosts.leases/NODE.lock, held by an open file: it
ends with the process, also when the process is killed, so a stale lease cannot exist. The
files stay (a few bytes in /run): unlinking a lock file lets two holders lock two inodes.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

LEASES = Path("/run/recipe-hosts.leases")


class Leases:
    """The leases one command holds."""

    def __init__(self) -> None:
        self._held: dict[str, IO[bytes]] = {}

    @property
    def names(self) -> list[str]:
        return list(self._held)

    def take(self, name: str) -> bool:
        """Lease the node NAME; False when another command holds it."""
        if name in self._held:
            return True
        LEASES.mkdir(mode=0o700, exist_ok=True)
        handle = (LEASES / f"{name}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held[name] = handle
        return True

    def release_all(self) -> None:
        for handle in self._held.values():
            handle.close()
        self._held.clear()


def leased(name: str) -> bool:
    """True while some command holds NAME's lease."""
    probe = Leases()
    if not probe.take(name):
        return True
    probe.release_all()
    return False
