"""Transcript files: which files are transcripts, and reading them.

Reading refuses anything that is not a regular file of a sane size before reading it: a FIFO
would wait for ever, /dev/zero never ends.

Which files are transcripts, one rule for `recipe replay`, `diff`, `docs` and `claims`:

- A file named outright is taken as given, whatever its name, a `.partial` one (the file a
  crashed run leaves) included; reading it says so when it is not a transcript.
- In a named folder (not below it), a transcript is a file whose first line is the format's
  `recipe-transcript N`, whatever its name, in name order. Left out: `.partial` files (a crashed
  or still running recording: name one outright to read it) and dot files (a write in progress).
  A `*.transcript` file there that does not start so is damaged: an error, never skipped.
- A path that does not exist, or a folder without a transcript, is an error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from generator.errors import UserError
from generator.transcript.reader import parse, parse_header
from generator.transcript.records import (
    MAGIC,
    PARTIAL_SUFFIX,
    Header,
    Transcript,
    TranscriptError,
)

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


SUFFIX = ".transcript"
_OPENING = (MAGIC + " ").encode()


def starts_like_one(path: Path) -> bool:
    """A regular file whose first bytes are the transcript format's first line."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(len(_OPENING)) == _OPENING
    except OSError:
        return False


def is_transcript(path: Path) -> bool:
    """True for a file a folder listing takes: a finished transcript, by its first line."""
    if path.name.startswith(".") or path.name.endswith(PARTIAL_SUFFIX):
        return False
    if starts_like_one(path):
        return True
    if path.name.endswith(SUFFIX) and path.is_file():
        raise UserError(
            f"{path}: named like a transcript, but its first line is not '{MAGIC} N'; "
            "it was damaged or is not a transcript: re-record it, or move it out of the folder"
        )
    return False


def in_folder(folder: Path) -> list[Path]:
    """The transcripts of one folder, in name order; none is an empty list."""
    return [p for p in sorted(folder.iterdir()) if is_transcript(p)]


def find(paths: Iterable[Path]) -> list[Path]:
    """The transcripts the paths name: files as given, folders by the rule above."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = in_folder(path)
            if not inside:
                raise UserError(f"{path}: no transcripts in this directory")
            found += inside
        elif path.exists():
            found.append(path)
        else:
            raise UserError(f"{path}: no such transcript file or directory")
    if not found:
        raise UserError("no transcript files or directories given")
    return found


def read_all(paths: Iterable[Path]) -> list[Transcript]:
    """Every transcript read before any is used: one bad file stops the command before it starts.

    A file cut off inside a step record was damaged after the run (the recorder writes whole
    records), so it is bad input; a file that merely stops between records is an incomplete
    recording, which replays and compares."""
    transcripts = [read(path) for path in paths]
    for transcript in transcripts:
        if transcript.truncated:
            text = Path(transcript.path).read_text(encoding="utf-8", errors="replace")
            last = len(transcript.steps)
            raise TranscriptError(
                f"{transcript.path}:{text.count(chr(10)) + 1}: the file ends inside a record "
                f"(after step {last}); it was cut off or edited. Re-record it with recipe run"
            )
    return transcripts
