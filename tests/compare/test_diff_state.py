"""`recipe diff` compares the observed state too, and a version-1 transcript (no snapshots) still
reads, diffs and renders, with a note saying what was not compared."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from generator import transcript as tr

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "transcripts" / "custom-bridge.transcript"
VERSION_1 = ROOT / "tests" / "transcript" / "data" / "veth-pair-v1.transcript"


def _diff(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["recipe", "diff", *map(str, paths), "--json"], capture_output=True, text=True, check=False
    )


def _rewired(tmp_path: Path) -> Path:
    """The golden with test3 moved from my-bridge to the default bridge, in its snapshot only."""
    text = GOLDEN.read_text()
    # the container in a snapshot; a reach section's cell by name names test3 too
    start = text.index('"name": "test3"', text.index('"containers": ['))
    container = text[text.rindex("\n  |   {", 0, start) : text.index("\n  |   }", start)]
    moved = container.replace('"network": "my-bridge"', '"network": "bridge"')
    assert moved != container
    state = text.replace(container, moved)
    state = state.replace('"members": ["test1", "test2", "test3"]', '"members": ["test1", "test2"]')
    path = tmp_path / "rewired.transcript"
    path.write_text(state)
    assert tr.read(path).snapshots  # still a valid transcript
    return path


def test_diff_names_an_edge_that_no_step_printed(tmp_path: Path) -> None:
    same = _diff(GOLDEN, GOLDEN)
    assert same.returncode == 0, same.stdout + same.stderr
    done = _diff(GOLDEN, _rewired(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    (report,) = json.loads(done.stdout)["transcripts"]
    assert report["drifts"] == []
    # two recordings, each named by its file: neither is "the recording" nor "now"
    wording = "test3 is on my-bridge in custom-bridge.transcript, on bridge in rewired.transcript"
    assert wording in report["state"], report
    assert report["sides"] == {"recorded": GOLDEN.name, "replayed": "rewired.transcript"}


def test_a_version_1_transcript_reads_diffs_and_renders(tmp_path: Path) -> None:
    old = tr.read(VERSION_1)
    assert (old.version, old.snapshots) == (1, ())
    done = _diff(VERSION_1, VERSION_1)
    assert done.returncode == 0, done.stdout + done.stderr
    (report,) = json.loads(done.stdout)["transcripts"]
    assert any("no state snapshot" in note for note in report["notes"])
    pages = subprocess.run(
        ["recipe", "docs", str(VERSION_1), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pages.returncode == 0, pages.stderr
    page = (tmp_path / "veth-pair.md").read_text()  # named by its recipe
    assert "```mermaid" in page  # drawn from the declared topology
    assert "Drawn from the state observed" not in page


def test_a_page_says_when_the_recorded_run_failed(tmp_path: Path) -> None:
    text = (ROOT / "transcripts" / "veth-pair.transcript").read_text()
    failed = text.replace(
        "result: passed\ncomplete: yes\n",
        "result: failed\ncomplete: yes\nreason: the teardown left things behind\n"
        "leftover: link veth-test1\n",
    )
    assert failed != text
    path = tmp_path / "failed.transcript"
    path.write_text(failed)
    for form, name in (("md", "veth-pair.md"), ("html", "veth-pair.html")):
        out = tmp_path / form
        done = subprocess.run(
            ["recipe", "docs", str(path), "-o", str(out), "--format", form],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        page = (out / name).read_text()
        assert "The recorded run failed: the teardown left things behind." in page
    done = _diff(ROOT / "transcripts" / "veth-pair.transcript", path)
    assert done.returncode == 1
    (report,) = json.loads(done.stdout)["transcripts"]
    assert report["problems"] == [
        f"the run passed in {ROOT / 'transcripts' / 'veth-pair.transcript'}, failed in {path}"
    ]
