"""Transcript files: read one whole, or only its header, refusing anything that is not a regular
file of a sane size before reading it (a FIFO would wait for ever, /dev/zero never ends)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from generator.transcript.reader import parse, parse_header
from generator.transcript.records import Header, Transcript, TranscriptError

# The biggest transcript read: a long lab is a few MB; far more is the wrong file, and reading it
# whole would end in an out-of-memory kill.
MAX_BYTES = 128 * 1024 * 1024
_MAX_HEADER_BYTES = 1024 * 1024  # read_header stops here: a header is a few hundred bytes


def read(path: Path) -> Transcript:
    """Read a transcript (or a `.partial` one a crash left behind)."""
    data = _read_regular(path, MAX_BYTES)
    if len(data) > MAX_BYTES:
        raise TranscriptError(
            f"{path}: larger than {MAX_BYTES >> 20} MB, which no lab's transcript is; "
            "give the transcript file itself"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    return parse(text, str(path))


def read_header(path: Path) -> Header:
    """Only the header, from the start of the file: enough to know how to compare the rest."""
    data = _read_regular(path, _MAX_HEADER_BYTES)
    text = data.partition(b"\n\n")[0].decode("utf-8", errors="replace") + "\n"
    return parse_header(text, str(path))


_KINDS = {
    stat.S_IFDIR: "directory",
    stat.S_IFIFO: "FIFO",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


def _read_regular(path: Path, limit: int) -> bytes:
    """Up to limit + 1 bytes of a regular file. Anything else is refused before it is read: a
    FIFO would wait for a writer for ever, /dev/zero never ends."""
    try:
        _check_regular(path, os.stat(path).st_mode)
        # O_NONBLOCK: if a FIFO was swapped in since the stat, open() must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    try:
        _check_regular(path, os.fstat(fd).st_mode)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(limit + 1)
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _check_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "special file")
        raise TranscriptError(
            f"{path} is a {kind}, not a transcript file; give a transcript written by recipe run"
        )
