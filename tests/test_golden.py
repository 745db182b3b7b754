"""The golden transcripts in transcripts/ still describe what the labs do: CI replays them all.

A failure here means a lab drifted (a kernel, iproute2, Docker or image change, or a recipe
change). Look at the diff; if the new behaviour is right, `recipe replay transcripts/ --update`
records it, then `recipe docs --project` refreshes docs/ (docs/replay.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from generator import recipes
from generator import transcript as tr

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "transcripts"


def _golden() -> list[Path]:
    return sorted(GOLDEN.glob("*.transcript"))


def test_every_single_host_recipe_has_a_golden_transcript() -> None:
    recorded = {tr.read(path).header.recipe for path in _golden()}
    single_host = {r.name for r in recipes.load_all() if not r.hosts}
    assert single_host <= recorded, f"record these: {sorted(single_host - recorded)}"


def test_golden_transcripts_are_whole_recordings() -> None:
    for path in _golden():
        transcript = tr.read(path)
        assert transcript.complete and transcript.status == "passed", path


def test_all_golden_transcripts_replay_without_drift(clean_machine: None, docker_engine: None) -> None:
    done = subprocess.run(
        ["recipe", "replay", str(GOLDEN), "--quiet", "--color", "never"],
        capture_output=True, text=True, timeout=1200, check=False, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    summaries = [line for line in done.stdout.splitlines() if line.startswith(str(GOLDEN))]
    assert len(summaries) == len(_golden())
    assert all(": ok, " in line for line in summaries), summaries

