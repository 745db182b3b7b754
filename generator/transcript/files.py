"""Which files are transcripts: one rule for `recipe replay`, `diff`, `docs` and `claims`.

- A file named outright is taken as given, whatever its name, a `.partial` one (the file a
  crashed run leaves) included; reading it says so when it is not a transcript.
- In a named folder (not below it), a transcript is a file whose first line is the format's
  `recipe-transcript N`, whatever its name, in name order. Left out: `.partial` files (a crashed
  or still running recording: name one outright to read it) and dot files (a write in progress).
  A `*.transcript` file there that does not start so is damaged: an error, never skipped.
- A path that does not exist, or a folder without a transcript, is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from generator.errors import UserError
from generator.transcript import reader as tr

SUFFIX = ".transcript"
_OPENING = (tr.MAGIC + " ").encode()


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
    if path.name.startswith(".") or path.name.endswith(tr.PARTIAL_SUFFIX):
        return False
    if starts_like_one(path):
        return True
    if path.name.endswith(SUFFIX) and path.is_file():
        raise UserError(
            f"{path}: named like a transcript, but its first line is not '{tr.MAGIC} N'; "
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


def read_all(paths: Iterable[Path]) -> list[tr.Transcript]:
    """Every transcript read before any is used: one bad file stops the command before it starts.

    A file cut off inside a step record was damaged after the run (the recorder writes whole
    records), so it is bad input; a file that merely stops between records is an incomplete
    recording, which replays and compares."""
    transcripts = [tr.read(path) for path in paths]
    for transcript in transcripts:
        if transcript.truncated:
            text = Path(transcript.path).read_text(encoding="utf-8", errors="replace")
            last = len(transcript.steps)
            raise tr.TranscriptError(
                f"{transcript.path}:{text.count(chr(10)) + 1}: the file ends inside a record "
                f"(after step {last}); it was cut off or edited. Re-record it with recipe run"
            )
    return transcripts
