"""A bytecode cache that only this user can have written.

Jinja's FileSystemBytecodeCache unpickles and unmarshals its files, and a marshalled code object
runs when the template renders: whoever can write a cache file runs code as the next user of
recipe, root included. So the cache is used only when every folder on its path is safe from
other users, and each file is checked again, through the descriptor it is read from.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

import jinja2
from jinja2.bccache import Bucket

_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _safe_ancestor(st: os.stat_result) -> bool:
    """A folder above the cache: owned by root or us, and writable by nobody else, unless it is
    sticky like /tmp (there others cannot rename or replace what we own)."""
    owner_ok = st.st_uid in {0, os.geteuid()}
    return owner_ok and (not st.st_mode & _OTHERS_WRITE or bool(st.st_mode & stat.S_ISVTX))


def _private(st: os.stat_result) -> bool:
    """A folder or file of the cache itself: a real one, ours, and closed to everyone else."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def private_folder(base: Path, below: Path) -> Path | None:
    """base/below, made 0700 where missing, or None when any part of it is not safe to trust.
    Folders this code made 0755 before are ours; they are closed to 0700, never trusted open."""
    base = Path(os.path.abspath(base))
    for folder in (base, *base.parents):
        try:
            if not _safe_ancestor(os.stat(folder)):
                return None
        except OSError:
            continue  # not made yet: mkdir makes it below a folder that was checked
    current = base
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        for part in below.parts:
            current = current / part
            with contextlib.suppress(FileExistsError):
                current.mkdir(mode=0o700)
            st = os.lstat(current)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                return None  # a symlink, or someone else's folder
            if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                os.chmod(current, 0o700)
            if not _private(os.lstat(current)):
                return None
    except OSError:
        return None  # an unwritable home only costs speed
    return current


class PrivateBytecodeCache(jinja2.FileSystemBytecodeCache):
    """FileSystemBytecodeCache that reads a file only when it is ours and 0600-or-closer, checked
    on the open descriptor (no symlink followed), so a file swapped in after the check is never
    read either. Anything else is ignored: the template is compiled from source instead."""

    def load_bytecode(self, bucket: Bucket) -> None:
        path = self._get_cache_filename(bucket)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if stat.S_ISREG(st.st_mode) and _private(st):
                _load(bucket, handle)

    # Writing stays Jinja's: mkstemp (0600) in this private folder, then a rename.


def _load(bucket: Bucket, handle: BinaryIO) -> None:
    try:
        bucket.load_bytecode(handle)
    except (EOFError, ValueError, TypeError):
        bucket.reset()  # a truncated or foreign file: compile from source
