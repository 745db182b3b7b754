"""Lab state: one record per run, so two runs of one recipe never lose each other's teardown."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.lab import labstate


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(labstate.STATE_ENV, str(tmp_path))
    return tmp_path


def _state(host: str) -> labstate.LabState:
    return labstate.LabState("veth-pair", f"echo {host}\n", {"ns1": "a"}, host, kept=False)


def test_two_runs_of_one_recipe_keep_two_records(state_dir: Path) -> None:
    first = labstate.save(_state("node1"))
    second = labstate.save(_state("node2"))
    assert first.run != second.run and labstate.count("veth-pair") == 2
    loaded = labstate.load("veth-pair")
    assert loaded is not None and loaded.host == "node2"  # the newest first
    labstate.forget("veth-pair", second.run)
    left = labstate.load("veth-pair")
    assert left is not None and left.host == "node1" and left.run == first.run
    assert labstate.standing() == ["veth-pair"]
    labstate.forget("veth-pair", first.run)
    assert labstate.standing() == [] and labstate.load("veth-pair") is None


def test_a_record_is_written_whole_and_never_through_a_planted_name(state_dir: Path) -> None:
    victim = state_dir / "victim"
    victim.write_text("precious")
    (state_dir / "veth-pair.json.tmp").symlink_to(victim)
    (state_dir / ".veth-pair.json.tmp").symlink_to(victim)
    saved = labstate.save(_state("node1"))
    assert victim.read_text() == "precious"
    assert labstate.load("veth-pair") == saved


def test_a_record_of_the_old_single_file_kind_is_still_found_and_forgotten(
    state_dir: Path,
) -> None:
    (state_dir / "veth-pair.json").write_text(
        '{"name": "veth-pair", "script": "true\\n", "params": {}, "host": "local", "kept": true}'
    )
    old = labstate.load("veth-pair")
    assert old is not None and old.run == "" and old.kept
    labstate.forget("veth-pair")
    assert labstate.count("veth-pair") == 0


def test_an_unreadable_record_is_passed_over_for_the_next(state_dir: Path) -> None:
    good = labstate.save(_state("node1"))
    (state_dir / "veth-pair@99999999999999999999-1-ffffff.json").write_text("{not json")
    assert labstate.load("veth-pair") == good
