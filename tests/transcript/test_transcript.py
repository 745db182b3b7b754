"""The transcript format: exact round trips, incremental writes, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import transcript as tr
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts

HEADER = tr.Header(
    recipe="veth-pair",
    params={"ns1": "test1", "subnet": "192.168.88.0/24"},
    script_sha256="ab" * 32,
    source="lab.sh",
    target="local",
    facts=HostFacts(host="box", user="root", kernel="6.1.0", distribution="Debian GNU/Linux 12"),
    started="2026-01-01T00:00:00Z",
    recorder="recipe 0.1.0",
)

AWKWARD = [
    "",
    "\n",
    "a",
    "a\n",
    "a\n\nb",
    "  | looks like a block\n",
    "\\ no newline at end",
    "cr\r\nff\x0c\n",
]


def record(index: int, stdout: str = "out\n", **changes: object) -> tr.StepRecord:
    base = tr.StepRecord(
        index=index,
        phase="main",
        command="ip netns add test1",
        expect=Expectation(output=("0% packet loss",)),
        exit=0,
        duration=0.0123,
        verdict="ok",
        stdout=stdout,
        stderr="warning\n",
        explanation="Create a namespace.\nIt is empty.",
        line=12,
    )
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", AWKWARD)
def test_any_output_round_trips_exactly(text: str) -> None:
    steps = (record(1, stdout=text, stderr=text, command="cat <<EOF\n" + text + "\nEOF"),)
    outcome = tr.Outcome("passed", True, "2026-01-01T00:00:01Z", 1.0)
    original = tr.Transcript(HEADER, steps, outcome, "<transcript>")
    assert tr.parse(tr.format_transcript(original)) == original


def test_interactive_teardown_and_failure_fields_round_trip() -> None:
    steps = (
        record(
            1,
            stdout="/ # ping -c 1 test1\nPING test1\n/ # exit\n",
            stderr="",
            interactive="docker exec -it test2 /bin/sh",
            role="node1",
        ),
        record(2, exit=124, timed_out=True, verdict="FAIL", problems=("timed out after 1s",)),
        record(3, phase="teardown", expect=Expectation(exit="any"), verdict="ok"),
    )
    outcome = tr.Outcome("failed", False, "x", 2.5, reason="step 2 failed", leftovers=("netns a",))
    original = tr.Transcript(HEADER, steps, outcome, "<transcript>")
    text = tr.format_transcript(original)
    assert "screen:\n  | / # ping -c 1 test1\n" in text
    assert tr.parse(text) == original


def test_recorder_renames_only_when_finished(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "lab.transcript"
    recorder = tr.Recorder(path, HEADER)
    recorder.step(record(1))
    assert not path.exists()
    midway = tr.read(recorder.partial)
    assert midway.status == "incomplete" and not midway.complete and len(midway.steps) == 1
    recorder.finish(tr.Outcome("passed", True, "x", 1.0))
    assert not recorder.partial.exists()
    done = tr.read(path)
    assert done.status == "passed" and done.complete and done.steps == (record(1),)


def test_a_cut_off_record_reads_as_truncated_and_incomplete(tmp_path: Path) -> None:
    text = tr.format_header(HEADER) + tr.format_step(record(1)) + tr.format_step(record(2))
    for cut in (len(text) - 5, len(text) - len(tr.format_step(record(2))) // 2):
        path = tmp_path / "cut.transcript"
        path.write_text(text[:cut])
        read = tr.read(path)
        assert read.truncated and read.status == "incomplete"
        assert [s.index for s in read.steps] == [1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\n", "cut.transcript:1: not a recipe transcript"),
        ("recipe-transcript 9\n", "cut.transcript:1: transcript format version '9'"),
        (
            tr.format_header(HEADER).replace("kernel:", "colonel:"),
            "cut.transcript:10: unknown header field 'colonel'",
        ),
        (
            tr.format_header(HEADER) + "\nstep 1\nphase: main\nmood: happy\nend step 1\n",
            "cut.transcript:21: unexpected line in step 1",
        ),
        (
            tr.format_header(HEADER)
            + tr.format_step(record(1)).replace("verdict: ok", "verdict: fine"),
            "verdict 'fine' is not one of",
        ),
        (tr.format_header(HEADER) + "\nnonsense\n", "cut.transcript:19: expected 'step N'"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cut.transcript"
    path.write_text(text)
    with pytest.raises(tr.TranscriptError) as caught:
        tr.read(path)
    assert message in caught.value.message


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.transcript"
    path.write_bytes(b"recipe-transcript 1\n\xff\xfe")
    with pytest.raises(tr.TranscriptError, match="not UTF-8"):
        tr.read(path)
