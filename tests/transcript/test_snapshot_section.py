"""Version 2's snapshot sections: written after the step they follow, read back exactly, and a
damaged or hand-edited one refused with one line naming the file and the line (exit 2)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.transcript import state_json, state_names
from generator.transcript.records import VERSION, SnapshotRecord
from tests.transcript.test_state import snapshot

GOLDEN = Path(__file__).resolve().parents[2] / "transcripts" / "veth-pair.transcript"


def _with_snapshots() -> tr.Transcript:
    old = tr.read(GOLDEN)
    state = dataclasses.replace(snapshot(), preexisting=("link host lo", "namespace host"))
    marks = (
        SnapshotRecord(1, 3, state, None, "after step 3"),
        SnapshotRecord(2, old.main_steps[-1].index, state, None, "end of main"),
    )
    return dataclasses.replace(old, snapshots=marks, version=VERSION)


def test_a_version_1_golden_still_reads_without_snapshots() -> None:
    old = tr.read(GOLDEN)
    assert old.version in (1, 2)
    if old.version == 1:
        assert old.snapshots == ()


def test_snapshots_read_back_exactly_after_the_steps_they_follow() -> None:
    transcript = _with_snapshots()
    text = tr.format_transcript(transcript)
    assert text.startswith(f"recipe-transcript {VERSION}\n")
    back = tr.parse(text, "x.transcript")
    assert back.snapshots == transcript.snapshots
    assert back.steps == transcript.steps
    # the first section sits between step 3 and step 4, the second after the last main step
    assert text.index("snapshot 1\n") > text.index("end step 3\n")
    assert text.index("snapshot 1\n") < text.index("\nstep 4\n")
    assert text.index("end snapshot 2\n") < text.index("teardown")


def test_defaults_are_left_out_and_short_values_stay_on_one_line() -> None:
    text = state_json.dumps(state_json.to_data(snapshot()))
    assert '"peer_nsid": null' not in text and '"master": ""' not in text
    assert all(len(line) <= 160 for line in text.splitlines())
    assert state_json.from_data(__import__("json").loads(text)) == snapshot()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('"mtu": 1500', '"mtu": "1500"', 1), "mtu: expected a whole number"),
        (lambda t: t.replace('"mtu": 1500', '"mtu": true', 1), "mtu: expected a whole number"),
        (lambda t: t.replace('"kind": "veth"', '"kind": "veth", "colour": 1', 1), "'colour'"),
        (lambda t: t.replace('"ifname": "lo", ', "", 1), "missing field 'ifname'"),
        (lambda t: t.replace('"mtu": 1500', '"mtu": ', 1), "the state is not JSON"),
        (lambda t: t.replace("after: 3", "after: x3", 1), "expected a number"),
        (lambda t: t.replace("end snapshot 1\n", "", 1), "unexpected line in snapshot 1"),
        (lambda t: t.replace("label: after step 3", "colour: red", 1), "unexpected line"),
        (
            lambda t: t.replace('"host": "labhost"', '"host": ' + "[" * 50 + "]" * 50, 1),
            "nests deeper",
        ),
    ],
)
def test_a_damaged_state_section_is_one_line_with_file_and_line(
    tmp_path: Path, change: object, message: str
) -> None:
    text = tr.format_transcript(_with_snapshots())
    damaged = change(text)  # type: ignore[operator]
    assert damaged != text
    path = tmp_path / "damaged.transcript"
    path.write_text(damaged)
    with pytest.raises(tr.TranscriptError) as caught:
        tr.read(path)
    line = str(caught.value)
    assert line.startswith(f"{path}:") and message in line and "\n" not in line
    number = int(line.split(":")[1])
    assert 1 < number <= damaged.count("\n")
    done = subprocess.run(
        ["recipe", "diff", str(path), str(GOLDEN)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert message in done.stderr


def test_the_json_fault_is_named_at_its_own_line(tmp_path: Path) -> None:
    text = tr.format_transcript(_with_snapshots())
    damaged = text.replace('"mtu": 1500', '"mtu": ', 1)
    fault = damaged[: damaged.index('"mtu": ,')].count("\n") + 1
    with pytest.raises(tr.TranscriptError, match=rf":{fault}: snapshot 1: the state is not JSON"):
        tr.parse(damaged, "x")


def test_canonical_names_from_the_snapshot() -> None:
    names = state_names.of_records(_with_snapshots().snapshots)
    assert names is not None
    # the host's random veth is named by the container end at its other side
    assert names.veth["vethcd11582"] == "rcp-obs-c:eth0"
    assert names.mac["76:ff:fd:48:e1:3c"] == "host:veth(rcp-obs-c:eth0)"
    assert names.ids["2870bbb998ff"] == "rcp-obs-c"
    assert names.ids["2c54eeb3b5b0"] == "network rcp-obs-net"
    assert names.ifindex["9676"] == "host:veth(rcp-obs-c:eth0)"
    assert "1" not in names.ifindex  # lo is 1 in every namespace: no name, order decides
    # a bridge has its first port's MAC: two interfaces, so neither is named by it
    assert "8a:41:61:24:9f:80" not in names.mac
    assert names.nsid[("", "netns:rcp-obs-a", "0")] == "rcp-obs-b"
