"""The private folder of one recording: the rcfile bash reads and the side channel its hooks write
(generator/lab/record_hooks.py), here or on the remote host.

The folder is made by mkdtemp(3) (mode 0700, a fresh random name), so no other user can read the
commands or plant a file or a symlink in it; the files in it are made 0600. It goes when the
recording ends, the session's history with it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import shutil
import tempfile
from typing import Protocol

from generator.errors import UserError
from generator.lab.record_hooks import RC_FILE, STEPS_FILE, rcfile
from generator.shell.base import Shell

_MKTEMP = re.compile(r"/tmp/recipe-record\.[A-Za-z0-9]{10}")


class Side(Protocol):
    folder: str

    def read_steps(self) -> bytes: ...

    def remove(self) -> None: ...


class LocalSide:
    def __init__(self, token: str) -> None:
        self.folder = tempfile.mkdtemp(prefix="recipe-record-")
        fd = os.open(
            os.path.join(self.folder, RC_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
        )
        with os.fdopen(fd, "w", encoding="utf-8") as rc:
            rc.write(rcfile(self.folder, token))

    @property
    def rc(self) -> str:
        return os.path.join(self.folder, RC_FILE)

    def read_steps(self) -> bytes:
        try:
            with open(os.path.join(self.folder, STEPS_FILE), "rb") as steps:
                return steps.read()
        except FileNotFoundError:  # no command was typed
            return b""

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class RemoteSide:
    """The same folder on the remote host, through the run's SSH shell (helper commands)."""

    def __init__(self, shell: Shell, token: str) -> None:
        self.shell = shell
        made = shell.run("mktemp -d /tmp/recipe-record.XXXXXXXXXX", timeout=30)
        self.folder = made.stdout.strip()
        # The name is used unquoted below: take only what mktemp makes.
        if made.exit != 0 or not _MKTEMP.fullmatch(self.folder):
            raise UserError(f"cannot make a private folder on the host: {made.stderr.strip()}")
        end = "RECIPE_RC_" + secrets.token_hex(8)  # a heredoc delimiter no rcfile line can be
        write = f"(umask 077; cat > {self.folder}/{RC_FILE}) <<'{end}'\n"
        wrote = shell.run(write + rcfile(self.folder, token) + end, timeout=30)
        if wrote.exit != 0:
            raise UserError(
                f"cannot write the session's rcfile on the host: {wrote.stderr.strip()}"
            )

    @property
    def rc(self) -> str:
        return f"{self.folder}/{RC_FILE}"

    def read_steps(self) -> bytes:
        # base64: the records hold NULs and any bytes the person typed; the shell's text does not.
        done = self.shell.run(f"base64 < {self.folder}/{STEPS_FILE} 2>/dev/null", timeout=60)
        try:
            return base64.b64decode(done.stdout)
        except (binascii.Error, ValueError):
            return b""

    def remove(self) -> None:
        self.shell.run(f"rm -rf -- {self.folder}", timeout=30)
