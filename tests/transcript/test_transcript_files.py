"""Finding transcripts (generator/transcript/files.py): one rule for replay, diff, docs and claims.

A file named outright is taken as given. In a folder, a transcript is a file whose first line is
`recipe-transcript N`, whatever its name; `.partial` files (a crashed or running recording) and
dot files (a write in progress) are left out; a `*.transcript` file that does not start like one
is damaged and stops the listing, rather than being skipped without a word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import UserError
from generator.transcript import files
from tests.cli_runner import assert_one_line_error, recipe
from tests.docs_samples import transcript


def folder_of_runs(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    transcript(folder / "b.transcript")
    transcript(folder / "a-named-otherwise.txt")  # a transcript by its first line
    transcript(folder / "b.transcript.1a2b3c4d.partial")  # a crashed run's file
    transcript(folder / ".b.transcript.5e6f7a8b.tmp")  # a write in progress
    (folder / "notes.md").write_text("# not a transcript\n", encoding="utf-8")
    (folder / "sub").mkdir()
    transcript(folder / "sub" / "c.transcript")  # folders are not searched below
    return folder


def test_a_folder_gives_its_transcripts_by_first_line_in_name_order(tmp_path: Path) -> None:
    folder = folder_of_runs(tmp_path)
    assert files.find([folder]) == [folder / "a-named-otherwise.txt", folder / "b.transcript"]


def test_named_files_are_taken_as_given_partial_ones_too(tmp_path: Path) -> None:
    folder = folder_of_runs(tmp_path)
    partial = folder / "b.transcript.1a2b3c4d.partial"
    assert files.find([partial, folder / "b.transcript"]) == [partial, folder / "b.transcript"]
    assert [t.path for t in files.read_all([partial])] == [str(partial)]


def test_a_damaged_transcript_file_in_a_folder_is_an_error(tmp_path: Path) -> None:
    folder = folder_of_runs(tmp_path)
    (folder / "c.transcript").write_text("garbage\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"c\.transcript: .*recipe-transcript"):
        files.find([folder])


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_nothing_to_find_is_an_error(tmp_path: Path, make: str) -> None:
    path = tmp_path / make
    if make == "empty":
        path.mkdir()
        (path / "notes.md").write_text("x\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"no such transcript|no transcripts in this directory"):
        files.find([path])


def test_read_all_refuses_a_file_cut_inside_a_record(tmp_path: Path) -> None:
    path = transcript(tmp_path / "cut.transcript")
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("  |") + 5], encoding="utf-8")
    with pytest.raises(UserError, match="ends inside a record"):
        files.read_all([path])


def test_replay_docs_and_claims_find_the_same_files(tmp_path: Path) -> None:
    folder = folder_of_runs(tmp_path)
    listed = recipe("replay", "--dry-run", str(folder))
    assert listed.returncode == 0, listed.stderr
    heads = [line.split(":")[0] for line in listed.stdout.splitlines() if "would run" in line]
    assert heads == [str(folder / "a-named-otherwise.txt"), str(folder / "b.transcript")]
    assert recipe("docs", str(folder), "-o", str(tmp_path / "out")).returncode == 0
    assert recipe("claims", str(folder)).returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in ("replay", "docs", "claims"):
        assert_one_line_error(recipe(command, str(empty)), "no transcripts in this directory")
