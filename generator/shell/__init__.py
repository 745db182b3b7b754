"""Shell sessions: one interface, several transports (local process, SSH channel)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from generator.errors import UserError

if TYPE_CHECKING:
    from generator.shell.base import Shell


def connect(host: str) -> Shell:
    """The shell for `--host HOST`. Transports import lazily: `recipe render` never loads them.

    Remote transports (issue 4) hook in here.
    """
    if host == "local":
        from generator.shell.local import LocalShell

        return LocalShell()
    raise UserError(f"--host {host}: only 'local' is supported until remote hosts land (issue 4)")
