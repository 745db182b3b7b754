"""The project's one way to write a file: readers see the old file or the new one, never half.

Every file recipe writes (pages, casts, claims, transcripts, lab state, the host inventory) goes
through here. The bytes go to a temporary file with a fresh random name, created exclusively
(O_CREAT|O_EXCL|O_NOFOLLOW) in the target's own folder, so nobody can plant a symlink at the
temporary name and two writers never share one. The file is fsynced, then renamed over the
target: rename(2) replaces a symlink at the target itself, never the file it points to. The folder
is fsynced too, so the new name survives a power cut. An existing target keeps its mode; a new
file gets 0666 less the umask, as open(2) would give it.

    write_text(path, text)                 # replace path whole
    write_text(path, text, replace=False)  # create path; FileExistsError if it is there
    temp = create_temp(path, ".partial")   # for a file written bit by bit (the recorder) ...
    commit(temp, path)                     # ... and moved in place at the end
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_ATTEMPTS = 100  # random names that all exist already: someone is filling the folder on purpose


@dataclass
class Temp:
    """An open, exclusively created file beside its target, not yet in place."""

    fd: int
    path: Path

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def discard(self) -> None:
        """Close and remove it: an error must leave no temporary file behind."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def create_temp(
    target: Path, suffix: str = ".tmp", hidden: bool = True, append: bool = False
) -> Temp:
    """A new file `[.]NAME.RANDOM{suffix}` in target's folder, with target's future mode.

    hidden: a dot name, for a file that lives a moment; the recorder's `.partial` is visible,
    since a crash leaves it for people to find.
    """
    flags = _CREATE | (os.O_APPEND if append else 0)
    prefix = ("." if hidden else "") + target.name
    for _ in range(_ATTEMPTS):
        path = target.with_name(f"{prefix}.{secrets.token_hex(4)}{suffix}")
        try:
            fd = os.open(path, flags, 0o600)  # 0600 until fchmod: nobody reads it half-made
        except FileExistsError:
            continue
        except OSError as exc:
            raise _about(exc, target) from None
        temp = Temp(fd, path)
        try:
            os.fchmod(fd, target_mode(target))
        except OSError as exc:
            temp.discard()
            raise _about(exc, target) from None
        return temp
    raise OSError(errno.EEXIST, "no free temporary name in its folder", str(target))


def commit(temp: Temp, target: Path, replace: bool = True) -> None:
    """fsync temp, move it to target (replace=False: only if target does not exist), fsync the
    folder. On any error temp is removed and target is as it was."""
    try:
        os.fsync(temp.fd)
        os.close(temp.fd)
        temp.fd = -1
        if replace:
            os.rename(temp.path, target)  # never follows a symlink at target
        else:
            # link(2) fails on an existing name, so two writers can never both get it.
            os.link(temp.path, target, follow_symlinks=False)
            os.unlink(temp.path)
    except OSError as exc:
        temp.discard()
        raise _about(exc, target) from None
    sync_folder(target.parent)


def write_bytes(target: Path, data: bytes, replace: bool = True) -> None:
    commit(_filled(target, data), target, replace)


def write_text(target: Path, text: str, replace: bool = True) -> None:
    write_bytes(target, text.encode("utf-8"), replace)


def numbered(target: Path, number: int) -> Path:
    """`NAME-N.SUFFIX`: the name to try when `NAME.SUFFIX` is taken (number >= 2)."""
    return target.with_name(f"{target.stem}-{number}{target.suffix}")


def write_unique(target: Path, data: bytes) -> Path:
    """Create target, or `NAME-2.SUFFIX`, `NAME-3.SUFFIX`... if taken; the name it got."""
    return commit_unique(_filled(target, data), target)


def _filled(target: Path, data: bytes) -> Temp:
    temp = create_temp(target)
    try:
        temp.write(data)
    except OSError as exc:
        temp.discard()
        raise _about(exc, target) from None
    except BaseException:  # Ctrl-C mid-write: still no temporary file left behind
        temp.discard()
        raise
    return temp


def commit_unique(temp: Temp, target: Path) -> Path:
    """commit(replace=False) to target or the first free numbered name; the name it got."""
    try:
        os.fsync(temp.fd)
    except OSError as exc:
        temp.discard()
        raise _about(exc, target) from None
    for number in range(1, 10_000):
        name = target if number == 1 else numbered(target, number)
        # Each try keeps temp until the link succeeds; only then is it removed.
        try:
            os.link(temp.path, name, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            temp.discard()
            raise _about(exc, target) from None
        temp.discard()  # closes and unlinks the temporary name; the data stays under `name`
        sync_folder(name.parent)
        return name
    temp.discard()
    raise OSError(errno.EEXIST, "every numbered name is taken", str(target))


def target_mode(target: Path) -> int:
    """The mode the written file gets: that of the regular file it replaces, else the default.

    A symlink at target is replaced, not followed, so its target's mode does not count.
    """
    try:
        found = os.lstat(target)
    except OSError:
        return 0o666 & ~umask()
    if stat.S_ISREG(found.st_mode):
        return stat.S_IMODE(found.st_mode)
    return 0o666 & ~umask()


def umask() -> int:
    """The process umask, read without changing it (os.umask() sets it, racing other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def sync_folder(folder: Path) -> None:
    """fsync a folder so a rename in it is on disk; a filesystem that cannot is left alone."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the data itself is synced
    finally:
        os.close(fd)


def _about(exc: OSError, target: Path) -> OSError:
    """The error named after the file the user asked for, not our temporary name."""
    return OSError(exc.errno, exc.strerror or str(exc), str(target))
