"""Two transcripts loaded side by side (the second in a forked child) compare exactly as when
loaded one after the other; errors from either file arrive whole; no child is left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.compare import sidebyside
from generator.compare.runs import CompareOptions, compare_runs
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts

LINE = "{}: v{}@if{}: <UP> mtu 1500\n    link/ether {} brd ff:ff:ff:ff:ff:ff\n"


def _write(path: Path, seed: int, steps: int, broken: int | None = None) -> Path:
    """A run of `ip link` steps whose indexes and MACs depend on seed; at step `broken` the
    peer index names the interface itself instead of its peer: a broken relationship. (Every
    step after it would then drift too, its values being numbered one fewer: so, the last.)"""
    records = []
    for i in range(1, steps + 1):
        index, mac = 10 * seed + 2 * i, f"02:{seed:02x}:00:00:{i // 256:02x}:{i % 256:02x}"
        peer = index if i == broken else index - 1
        records.append(
            tr.StepRecord(
                index=i,
                phase="main",
                command=f"ip link show v{i}",
                expect=Expectation(),
                exit=0,
                duration=0.001,
                verdict="ok",
                stdout=LINE.format(index, i, peer, mac) * 8,
            )
        )
    header = tr.Header(
        recipe=None,
        params={},
        script_sha256="0" * 64,
        source="test",
        target="local",
        facts=HostFacts(),
        started="2026-11-29T04:00:00Z",
        recorder="test",
    )
    path.write_text(tr.format_transcript(tr.Transcript(header, tuple(records), None)))
    return path


def _children() -> set[int]:
    """This process's children, zombies included: other tests' helpers may be among them."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(
                line for line in status.read_text().splitlines() if line.startswith("PPid:")
            )
        except (OSError, StopIteration):
            continue  # gone meanwhile
        if int(ppid.split()[1]) == os.getpid():
            found.add(int(status.parent.name))
    return found


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path / "a.transcript", 1, 400), _write(
        tmp_path / "b.transcript", 7, 400, broken=400
    )


def _report(first: Path, second: Path, parallel: bool) -> list[tuple[object, ...]]:
    old, new = sidebyside.load_both(first, second, CompareOptions(), parallel=parallel)
    result = compare_runs(old.run, new.run)
    assert result.compared == 400
    return [(d.index, d.command, d.reasons, d.diffs, d.bindings) for d in result.drifts]


def test_side_by_side_finds_exactly_what_one_after_the_other_finds(pair: tuple[Path, Path]) -> None:
    before = _children()
    alone = _report(*pair, parallel=False)
    assert [d[0] for d in alone] == [400]
    assert alone[0][4], "the broken pairing is named by its bindings"
    assert _report(*pair, parallel=True) == alone
    assert _children() <= before


def test_the_childs_transcript_keeps_its_header_and_outcome(pair: tuple[Path, Path]) -> None:
    old, new = sidebyside.load_both(*pair, CompareOptions(), parallel=True)
    assert new.transcript.path == str(pair[1]) and not new.transcript.complete
    assert new.transcript.header == old.transcript.header
    assert len(new.run.steps) == 400 and new.run.steps[249].command == "ip link show v250"


@pytest.mark.parametrize("bad", [0, 1])
def test_a_bad_file_on_either_side_raises_its_own_error(pair: tuple[Path, Path], bad: int) -> None:
    text = pair[bad].read_text()
    pair[bad].write_text(text.replace("exit: 0\n", "exit: zero\n", 1))
    before = _children()
    with pytest.raises(
        tr.TranscriptError, match=rf"^{pair[bad]}:\d+: expected a number, got 'zero'"
    ):
        sidebyside.load_both(*pair, CompareOptions(), parallel=True)
    assert _children() <= before


def test_recipe_diff_of_large_files_goes_side_by_side_and_reports(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.transcript", 1, 2000)
    b = _write(tmp_path / "b.transcript", 7, 2000, broken=2000)
    assert b.stat().st_size >= sidebyside.WORTH_A_FORK
    done = subprocess.run(
        ["recipe", "diff", str(a), str(b), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)["transcripts"][0]
    assert [d["index"] for d in report["drifts"]] == [2000]
    assert any("incomplete" in note for note in report["notes"])


def test_a_child_that_dies_is_replaced_by_doing_its_work_here(
    pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)  # in the child: as the OOM killer would

    monkeypatch.setattr(sidebyside, "_light", lambda loaded: die())
    before = _children()
    old, new = sidebyside.load_both(*pair, CompareOptions(), parallel=True)
    assert compare_runs(old.run, new.run).drifts[0].index == 400
    assert _children() <= before
