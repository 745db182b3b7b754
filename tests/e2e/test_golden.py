"""The golden transcripts in transcripts/ still describe what the labs do: CI replays them all
in one `recipe replay transcripts/`, as a user would: the single-host ones on this machine, the
multi-host ones on docker-node1/2 (`recipe hosts up`), whose namespaces do not show in this
machine's listings.

A failure here means a lab drifted (a kernel, iproute2, Docker or image change, or a recipe
change). Look at the diff; if the new behaviour is right, `recipe replay transcripts/ --update`
records it, then `recipe docs --project` refreshes docs/ (docs/replay.md)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.recipes import catalog as recipes

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "transcripts"


def _golden() -> list[Path]:
    return sorted(GOLDEN.glob("*.transcript"))


def _multi_host(path: Path) -> bool:
    """Recorded across several hosts (the virtual nodes): its header names one host per role."""
    return len(tr.read(path).header.target.split(",")) > 1


def _sh(command: str) -> None:
    subprocess.run(["bash", "-c", command], check=True, capture_output=True, timeout=120)


@pytest.fixture
def machine_with_history(clean_machine: None, docker_engine: None) -> Iterator[None]:
    """This machine as it is once other labs have come and gone: kernel and Docker counters moved.

    Containers made and removed move Docker's choices (veth names, addresses it has handed out).
    Three namespaces that this shell's namespace has referred to (through a veth into each, then
    deleted) keep netnsids 0, 1 and 2 taken for as long as they live, so the labs' namespaces get
    higher ids than on a fresh machine. The namespaces are held by processes, not named in
    /run/netns, so no listing a lab prints shows them."""
    for n in range(3):
        _sh(f"docker run -d --name golden-history{n} busybox sleep 600 >/dev/null")
    _sh("docker rm -f golden-history0 golden-history1 golden-history2 >/dev/null")
    holders = [subprocess.Popen(["unshare", "--net", "sleep", "3600"]) for _ in range(3)]
    try:
        for n, holder in enumerate(holders):
            _sh(
                f'for i in $(seq 50); do [ "$(readlink /proc/{holder.pid}/ns/net)" != '
                f'"$(readlink /proc/self/ns/net)" ] && break; sleep 0.05; done; '
                f"ip link add ghist{n} type veth peer name ghist{n}p netns {holder.pid}; "
                f"ip link del ghist{n}"
            )
        out = subprocess.run(
            ["ip", "netns", "list-id"], capture_output=True, text=True, check=False
        ).stdout
        assert out.count("nsid ") >= 3, out  # the ids are taken: the history is real
        yield
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()


def test_every_golden_transcript_replays_without_drift(
    virtual_nodes: None, machine_with_history: None
) -> None:
    """Three times in a row, on a machine with history: nothing that counts runs may drift."""
    paths = _golden()
    assert any(_multi_host(path) for path in paths) and not all(_multi_host(p) for p in paths)
    for _round in range(3):
        done = subprocess.run(
            ["recipe", "replay", str(GOLDEN), "--quiet", "--color", "never"],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
            cwd=ROOT,
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
    for path in [*_golden(), *sorted(GOLDEN.glob("stacks/*/*.transcript"))]:
        transcript = tr.read(path)
        assert transcript.complete and transcript.status == "passed", path


def test_every_golden_records_the_observed_state() -> None:
    """Format version 2 or later (3 or later where a `#@ reach` matrix is recorded; a golden
    re-recorded since is the writer's version), with the state at the end of the main phase of
    every host, whole, and a record of what was there before the lab; the stacks' goldens too."""
    for path in [*_golden(), *sorted(GOLDEN.glob("stacks/*/*.transcript"))]:
        transcript = tr.read(path)
        assert transcript.version >= (3 if transcript.reaches else 2), path
        ends = [s for s in transcript.snapshots if s.label == "end of main"]
        roles = {s.role for s in transcript.steps}
        assert len(ends) == len(roles), path
        for snapshot in ends:
            assert not snapshot.state.is_partial, (path, snapshot.state.partial)
            assert "namespace host" in snapshot.state.preexisting, path
