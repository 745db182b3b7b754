"""Shell sessions: one interface, several transports (local process, SSH channel)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.shell.base import Shell


def connect(host: str) -> Shell:
    """The shell for `--host HOST`. Transports import lazily: `recipe render` never loads them.

    HOST is local, or a remote host (generator/shell/remote.py says how it is found).
    """
    from generator.shell.remote import one

    return one(host)
