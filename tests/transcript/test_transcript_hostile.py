"""A transcript is never trusted: every damaged or hostile field is one TranscriptError naming the
file and line, and the files recipe writes cannot be redirected by what is already there."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from generator import atomicfile
from generator import transcript as tr
from tests.transcript.test_transcript import HEADER, record

GOOD = tr.format_transcript(
    tr.Transcript(
        HEADER,
        (record(1), record(2, interactive="docker exec -it c1 sh", command="ip addr\nexit")),
        tr.Outcome("passed", True, "2026-01-01T00:00:01Z", 1.0),
        "<transcript>",
    )
)


def mutated(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


HOSTILE = {
    "superscript exit": mutated("exit: 0\n", "exit: ²\n"),
    "superscript step": mutated("step 1\n", "step ¹\n"),
    "huge exit": mutated("exit: 0\n", "exit: " + "9" * 5000 + "\n"),
    "huge line": mutated("line: 12\n", "line: " + "9" * 5000 + "\n"),
    "huge step": mutated("step 1\n", "step " + "9" * 5000 + "\n"),
    "fractional exit": mutated("exit: 0\n", "exit: 1.5\n"),
    "deep expect": mutated('expect: {"exit": 0, "output"', 'expect: {"x": ' + "[" * 100_000 + "0"),
    "bad regex": mutated(
        'expect: {"exit": 0, "output": ["0% packet loss"]}', 'expect: {"match": ["("]}'
    ),
    "fractional expected exit": mutated('expect: {"exit": 0,', 'expect: {"exit": 1.5,'),
    "huge expected exit": mutated('expect: {"exit": 0,', 'expect: {"exit": ' + "9" * 5000 + ","),
    "nan duration": mutated("duration: 0.0123\n", "duration: nan\n"),
    "negative duration": mutated("duration: 0.0123\n", "duration: -1\n"),
    "infinite result duration": mutated("duration: 1.000\n", "duration: inf\n"),
    "nul byte": mutated("out\n", "o\0ut\n"),
    "empty interactive": GOOD.replace("interactive: docker exec -it c1 sh\n", "interactive: \n"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_field_is_one_transcript_error(name: str) -> None:
    with pytest.raises(tr.TranscriptError) as caught:
        tr.parse(HOSTILE[name], "lab.transcript")
    message = caught.value.message
    assert message.startswith("lab.transcript:") and "\n" not in message and len(message) < 300


def test_the_unmutated_transcript_still_reads() -> None:
    assert len(tr.parse(GOOD).steps) == 2


def test_an_interactive_step_without_typed_lines_is_refused() -> None:
    text = mutated("ip addr\n  | exit", "")
    with pytest.raises(tr.TranscriptError, match="empty command|names no program|command"):
        tr.parse(text, "t")


@pytest.mark.parametrize("command", ["diff", "export", "docs"])
def test_a_fifo_or_a_device_is_refused_without_waiting(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "lab.transcript"
    os.mkfifo(fifo)
    good = tmp_path / "good.transcript"
    good.write_text(GOOD)
    args = {
        "diff": [str(fifo), str(good)],
        "export": [str(fifo), "-o", str(tmp_path / "c.cast")],
        "docs": [str(fifo), "-o", str(tmp_path / "out")],
    }[command]
    for target in (fifo, Path("/dev/zero")):
        args[0] = str(target)
        done = subprocess.run(
            ["recipe", command, *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "not a transcript file" in done.stderr, done.stderr


def test_a_file_too_big_to_be_a_transcript_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.transcript"
    with big.open("wb") as stream:
        stream.truncate(tr.MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(tr.TranscriptError, match="larger than"):
        tr.read(big)


# -- the one writer ------------------------------------------------------------------------------


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    page = tmp_path / "page.md"
    page.symlink_to(victim)
    atomicfile.write_text(page, "new page")
    assert victim.read_text() == "precious"
    assert not page.is_symlink() and page.read_text() == "new page"


def test_planted_temporary_names_are_never_used(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    # The names the old writers used; a new writer's temporary name is random and exclusive.
    for planted in (".page.md.tmp", "page.md.tmp", "page.md.partial"):
        (tmp_path / planted).symlink_to(victim)
    atomicfile.write_text(tmp_path / "page.md", "page")
    assert victim.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.is_symlink()) == ["page.md", "victim"]


def test_the_mode_of_the_replaced_file_is_kept(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("old")
    page.chmod(0o640)
    atomicfile.write_text(page, "new")
    assert page.stat().st_mode & 0o777 == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomicfile.write_text(page, "\udcff")
    (tmp_path / "sub").mkdir()
    with pytest.raises(OSError):
        atomicfile.write_text(tmp_path / "sub", "a folder is not replaced")
    assert page.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.md", "sub"]


def test_create_only_never_replaces(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("theirs")
    with pytest.raises(FileExistsError):
        atomicfile.write_text(page, "mine", replace=False)
    assert page.read_text() == "theirs"


def test_concurrent_writers_each_land_whole(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    errors: list[BaseException] = []
    texts = [str(n) * 100_000 for n in range(8)]

    def write(text: str) -> None:
        try:
            for _ in range(20):
                atomicfile.write_text(page, text)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert page.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["page.md"]


def test_unique_names_count_up_and_never_replace(tmp_path: Path) -> None:
    target = tmp_path / "veth-pair.transcript"
    names = [atomicfile.write_unique(target, str(n).encode()) for n in range(3)]
    assert [p.name for p in names] == [
        "veth-pair.transcript",
        "veth-pair-2.transcript",
        "veth-pair-3.transcript",
    ]
    assert [p.read_text() for p in names] == ["0", "1", "2"]


def test_two_recorders_of_one_default_name_both_keep_their_transcript(tmp_path: Path) -> None:
    path = tmp_path / "veth-pair.transcript"
    first, second = tr.Recorder(path, HEADER, unique=True), tr.Recorder(path, HEADER, unique=True)
    assert first.partial != second.partial
    outcome = tr.Outcome("passed", True, "2026-01-01T00:00:01Z", 1.0)
    assert first.finish(outcome) == path
    assert second.finish(outcome).name == "veth-pair-2.transcript"


def test_the_recorder_never_writes_through_a_planted_partial(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    path = tmp_path / "lab.transcript"
    (tmp_path / "lab.transcript.partial").symlink_to(victim)
    recorder = tr.Recorder(path, HEADER)
    recorder.finish(tr.Outcome("passed", True, "2026-01-01T00:00:01Z", 1.0))
    assert victim.read_text() == "precious"
    assert tr.read(path).header == HEADER


def test_docs_through_a_planted_symlink_leave_its_target_alone(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    transcript = Path(__file__).parents[2] / "transcripts" / "veth-pair.transcript"
    out = tmp_path / "site"
    out.mkdir()
    for name in ("veth-pair.md", ".veth-pair.md.tmp"):
        (out / name).symlink_to(victim)
    done = subprocess.run(
        ["recipe", "docs", str(transcript), "-o", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious"
    assert "veth-pair" in (out / "veth-pair.md").read_text()


def test_concurrent_docs_runs_into_one_folder_all_succeed(tmp_path: Path) -> None:
    """Two `recipe docs` into one folder raced for one fixed temporary name before."""
    transcripts = Path(__file__).parents[2] / "transcripts"
    out = tmp_path / "site"
    runs = [
        subprocess.Popen(
            [
                "recipe",
                "docs",
                str(transcripts / "veth-pair.transcript"),
                str(transcripts / "linux-bridge.transcript"),
                "-o",
                str(out),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [(run.wait(timeout=120), run.stderr.read() if run.stderr else "") for run in runs]
    assert all(code == 0 for code, _ in results), results
    names = sorted(p.name for p in out.iterdir())
    assert "veth-pair.md" in names and not [n for n in names if n.startswith(".")], names
