"""The golden transcripts in transcripts/ still describe what the labs do: CI replays them all,
the single-host ones on this machine with the virtual nodes down (their namespaces and links would
show in the labs' listings), the multi-host ones on docker-node1/2 (`recipe hosts up`).

A failure here means a lab drifted (a kernel, iproute2, Docker or image change, or a recipe
change). Look at the diff; if the new behaviour is right, `recipe replay transcripts/ --update`
records it, then `recipe docs --project` refreshes docs/ (docs/replay.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator import hosts, recipes
from generator import transcript as tr

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "transcripts"


def _golden() -> list[Path]:
    return sorted(GOLDEN.glob("*.transcript"))


def _multi_host(path: Path) -> bool:
    """Recorded across several hosts (the virtual nodes): its header names one host per role."""
    return len(tr.read(path).header.target.split(",")) > 1


def _replay(paths: list[Path]) -> None:
    """Replay these transcripts on their recorded hosts; every one of them reads ok."""
    assert paths
    done = subprocess.run(
        ["recipe", "replay", *map(str, paths), "--quiet", "--color", "never"],
        capture_output=True, text=True, timeout=1200, check=False, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    summaries = [line for line in done.stdout.splitlines() if line.startswith(str(GOLDEN))]
    assert len(summaries) == len(paths)
    assert all(": ok, " in line for line in summaries), summaries


def test_every_recipe_has_a_golden_transcript() -> None:
    recorded = {tr.read(path).header.recipe for path in _golden()}
    every = {r.name for r in recipes.load_all()}
    assert every <= recorded, f"record these: {sorted(every - recorded)}"


def test_multi_host_recipes_are_recorded_on_the_virtual_nodes() -> None:
    """One host per role, in the roles' order: the nodes of `recipe hosts up`."""
    multi = {r.name: r.hosts for r in recipes.load_all() if r.hosts}
    for path in _golden():
        header = tr.read(path).header
        if header.recipe in multi:
            assert header.target.split(",") == list(multi[header.recipe]), path


def test_golden_transcripts_are_whole_recordings() -> None:
    for path in _golden():
        transcript = tr.read(path)
        assert transcript.complete and transcript.status == "passed", path


@pytest.fixture
def virtual_nodes_down(machine: None) -> None:
    """The single-host labs were recorded on this machine without the virtual nodes, whose
    namespaces and links would show in their `ip netns list` and `ip link`. The `virtual_nodes`
    fixture makes the nodes again for the tests that need them."""
    problems = hosts.down()
    assert not problems, f"hosts down: {problems}"


def test_single_host_golden_transcripts_replay_without_drift(
    virtual_nodes_down: None, clean_machine: None, docker_engine: None
) -> None:
    _replay([path for path in _golden() if not _multi_host(path)])


def test_multi_host_golden_transcripts_replay_on_the_virtual_nodes(
    virtual_nodes: None, clean_machine: None
) -> None:
    _replay([path for path in _golden() if _multi_host(path)])
