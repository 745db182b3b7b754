"""`recipe replay` and `recipe diff` end to end: real runs through the runner, real namespaces.

Each replay tears its lab down; the `clean_machine` fixture fails a test that leaves anything.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts

ROOT = Path(__file__).resolve().parents[2]

# A small recipe of our own, so the tests can change it; names no other test uses.
RECIPE_TOML = """title = "Replay test lab"
summary = "One namespace, one veth pair, one ping."
description = "Made by tests/lab/test_replay.py."
requires = ["ip", "ping"]

[params.ns]
type = "netns"
default = "rpl-test"
help = "The namespace."
"""
TEMPLATE = """{% extends "base.sh.j2" %}
{% block steps %}
# Two namespaces joined by a veth pair; pings stay between them.
ip netns add {{ ns }}

ip netns add {{ ns }}-b

ip link add rpl-a type veth peer name rpl-b

ip link set rpl-a netns {{ ns }}

ip link set rpl-b netns {{ ns }}-b

ip netns exec {{ ns }} ip addr add 10.231.0.1/30 dev rpl-a

ip netns exec {{ ns }}-b ip addr add 10.231.0.2/30 dev rpl-b

ip netns exec {{ ns }} ip link set rpl-a up

ip netns exec {{ ns }}-b ip link set rpl-b up
EXTRA
# Its end of the pair, with a MAC and an interface index that change every run.
ip netns exec {{ ns }} ip addr show rpl-a

#@ expect-output " 0% packet loss"
ip netns exec {{ ns }} ping -c 2 -i 0.2 -W 1 10.231.0.2
{% endblock %}
{% block teardown %}
ip netns delete {{ ns }} 2>/dev/null
ip netns delete {{ ns }}-b 2>/dev/null
{% endblock %}
"""
PING = "step 11: ip netns exec rpl-test ping -c 2 -i 0.2 -W 1 10.231.0.2"


def recipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["recipe", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A recipe folder of our own: tmp/recipes/rpl-lab."""
    folder = tmp_path / "recipes" / "rpl-lab"
    folder.mkdir(parents=True)
    (folder / "recipe.toml").write_text(RECIPE_TOML)
    (folder / "lab.sh.j2").write_text(TEMPLATE.replace("EXTRA\n", ""))
    return folder


@pytest.fixture
def env(tmp_path: Path, lab: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RECIPE_PATH": str(lab.parent),
        "RECIPE_STATE_DIR": str(tmp_path / "state"),
    }


@pytest.fixture
def recorded(tmp_path: Path, env: dict[str, str], clean_machine: None) -> Path:
    path = tmp_path / "rpl-lab.transcript"
    done = recipe("run", "rpl-lab", "--record", str(path), "-q", env=env)
    assert done.returncode == 0, done.stderr
    return path


def test_replay_of_a_recorded_run_passes_again_and_again(
    recorded: Path, env: dict[str, str]
) -> None:
    steps = len(tr.read(recorded).steps)
    assert steps == 13  # 11 steps and 2 of teardown, all compared
    for _ in range(3):
        done = recipe("replay", str(recorded), "-q", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip() == f"{recorded}: ok, {steps} steps compared, 0 drifting"


def test_replay_catches_lost_packets_and_update_records_the_new_truth(
    recorded: Path, env: dict[str, str]
) -> None:
    original = recorded.read_text()
    recorded.write_text(
        original.replace("2 received, 0% packet loss", "0 received, 100% packet loss")
    )
    done = recipe("replay", str(recorded), "-q", "--color", "never", env=env)
    assert done.returncode == 1
    assert PING in done.stdout
    assert "-2 packets transmitted, 0 received, 100% packet loss, time <DURATION>ms" in done.stdout
    assert "\033[" not in done.stdout  # not a terminal: no colour

    done = recipe("replay", str(recorded), "-q", "--update", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "updated" in done.stdout
    updated = tr.read(recorded)
    # The whole replay is the new recording: its snapshots name the values of all its steps.
    assert "2 received, 0% packet loss" in updated.steps[10].stdout
    assert [s.label for s in updated.snapshots] == ["end of main"]
    assert updated.header.recorder.endswith("(replay)")
    assert recipe("replay", str(recorded), "-q", env=env).returncode == 0


def test_update_without_snapshots_rewrites_only_the_drifting_step(
    tmp_path: Path, env: dict[str, str], clean_machine: None
) -> None:
    recorded = tmp_path / "rpl-lab.transcript"
    done = recipe("run", "rpl-lab", "--record", str(recorded), "-q", "--no-snapshots", env=env)
    assert done.returncode == 0, done.stderr
    original = recorded.read_text()
    recorded.write_text(
        original.replace("2 received, 0% packet loss", "0 received, 100% packet loss")
    )
    done = recipe("replay", str(recorded), "-q", "--update", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    updated = tr.read(recorded)
    before = tr.parse(original)
    # Only the drifting step was rewritten; the others are the recorded ones, to the byte.
    assert [s for s in updated.steps if s.index != 11] == [s for s in before.steps if s.index != 11]
    assert "2 received, 0% packet loss" in updated.steps[10].stdout
    assert updated.snapshots == ()
    assert recipe("replay", str(recorded), "-q", env=env).returncode == 0


def test_recipe_changed_since_recording_is_reported_and_update_re_records(
    recorded: Path, lab: Path, env: dict[str, str]
) -> None:
    (lab / "lab.sh.j2").write_text(
        TEMPLATE.replace("EXTRA\n", "\nip netns exec {{ ns }} ip route\n")
    )
    done = recipe("replay", str(recorded), "-q", "--json", env=env)
    assert done.returncode == 1
    report = json.loads(done.stdout)["transcripts"][0]
    assert report["recipe_changed"] is True
    assert [d["reasons"] for d in report["drifts"]] == [["a step the recording does not have"]]
    assert report["drifts"][0]["command"] == "ip netns exec rpl-test ip route"

    assert recipe("replay", str(recorded), "-q", "--update", env=env).returncode == 0
    assert "ip netns exec rpl-test ip route" in [s.command for s in tr.read(recorded).steps]
    assert recipe("replay", str(recorded), "-q", env=env).returncode == 0


def test_incomplete_recording_replays_what_it_recorded_and_says_so(
    recorded: Path, env: dict[str, str]
) -> None:
    # What a crash after step 5 leaves: whole records, no teardown, no result.
    text = recorded.read_text()
    recorded.write_text(text[: text.index("end step 5\n") + len("end step 5\n")])
    done = recipe("replay", str(recorded), "-q", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "note: recording incomplete (the run ended incomplete): replaying the 5 main steps"
        in done.stdout
    )
    assert (
        done.stdout.splitlines()[-1]
        == f"{recorded}: ok, 5 steps compared, 0 drifting, recording incomplete"
    )


def test_a_step_stopped_by_a_signal_is_not_replayed(recorded: Path, env: dict[str, str]) -> None:
    # What `recipe run` records when Ctrl-C lands in step 6: steps 1-5 whole, step 6 with the
    # output it had and an `interrupted by` problem, then the teardown.
    read = tr.read(recorded)
    sixth = read.main_steps[5]
    stopped = tr.StepRecord(
        **{
            **sixth.__dict__,
            "stdout": "half\n",
            "exit": 137,
            "verdict": "FAIL",
            "problems": ("interrupted by SIGINT after 0.1 s; the step was stopped",),
        }
    )
    assert stopped.interrupted
    outcome = tr.Outcome(
        "interrupted",
        False,
        "2026-11-29T05:01:05.012Z",
        1.0,
        "interrupted by SIGINT during step 6 of 11",
    )
    steps = (*read.main_steps[:5], stopped, *read.teardown_steps)
    recorded.write_text(tr.format_transcript(tr.Transcript(read.header, steps, outcome)))
    done = recipe("replay", str(recorded), "-q", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "step 6 was stopped by a signal when recorded; not replayed" in done.stdout
    assert "replaying the 5 main steps" in done.stdout
    teardown = len(read.teardown_steps)
    assert done.stdout.splitlines()[-1].startswith(f"{recorded}: ok, {5 + teardown} steps compared")


def test_dry_run_lists_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "touch.transcript"
    path.write_text(_script_transcript(f"touch {marker}"))
    done = recipe("replay", "--dry-run", "--recorded-commands", str(path))
    assert done.returncode == 0, done.stderr
    assert "would run 1 step and 0 teardown steps on local (commands recorded in the" in done.stdout
    assert "  [   1] touch /" in done.stdout
    assert not marker.exists()
    listed = json.loads(
        recipe("replay", "--dry-run", "--recorded-commands", "--json", str(tmp_path)).stdout
    )
    assert listed["transcripts"][0]["steps"][0]["command"] == f"touch {marker}"
    assert not marker.exists()


def _script_transcript(command: str, stdout: str = "") -> str:
    header = tr.Header(
        None, {}, "0" * 64, "lab.sh", "local", HostFacts(host="vm"), "2026-01-01T00:00:00Z", "test"
    )
    step = tr.StepRecord(1, "main", command, Expectation(), 0, 0.01, "ok", stdout=stdout)
    outcome = tr.Outcome("passed", True, "2026-01-01T00:00:01Z", 0.02)
    return tr.format_transcript(tr.Transcript(header, (step,), outcome))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda t: "recipe-transcript 9" + t[t.index("\n") :],
            ":1: transcript format version '9'",
        ),
        (lambda t: t.replace("exit: 0\n", "exit: zero\n", 1), ": expected a number, got 'zero'"),
        (lambda t: t[: t.index("exit: 0")], ": the file ends inside a record (after step 0)"),
        (lambda t: t.replace("phase: main", "phase: middle"), "phase must be main or teardown"),
    ],
    ids=["wrong-version", "hand-edited", "truncated", "bad-phase"],
)
def test_bad_input_names_file_and_position_and_exits_2(
    tmp_path: Path, damage: object, message: str
) -> None:
    path = tmp_path / "bad.transcript"
    path.write_text(damage(_script_transcript("echo hi", "hi\n")))  # type: ignore[operator]
    for args in (["replay", "--dry-run", str(path)], ["diff", str(path), str(path)]):
        done = recipe(*args)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"recipe: {path}:")
        assert message in done.stderr
        assert "Traceback" not in done.stderr


def test_diff_passes_volatile_changes_and_catches_meaningful_ones(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.transcript", tmp_path / "b.transcript", tmp_path / "c.transcript"
    line = "{}: v0@if{}: <UP> mtu 1500\n    link/ether {} brd ff:ff:ff:ff:ff:ff\n"
    a.write_text(_script_transcript("ip link", line.format(11, 10, "be:48:4b:cd:50:ec")))
    b.write_text(_script_transcript("ip link", line.format(41, 40, "0a:3b:89:62:28:8c")))
    c.write_text(_script_transcript("ip link", line.format(41, 41, "0a:3b:89:62:28:8c")))
    assert recipe("diff", str(a), str(b)).returncode == 0
    done = recipe("diff", str(a), str(c), "--json")
    assert done.returncode == 1
    drift = json.loads(done.stdout)["transcripts"][0]["drifts"][0]
    assert drift["diffs"]["stdout"][3:5] == [
        "-IF#1: v0@IF#2: <UP> mtu 1500",
        "+IF#1: v0@IF#1: <UP> mtu 1500",
    ]
    assert drift["bindings"] == [
        {"recorded": "IF#2", "replayed": "IF#1", "recorded_value": "10", "replayed_value": "41"}
    ]


def test_missing_path_is_bad_input(tmp_path: Path) -> None:
    done = recipe("replay", str(tmp_path / "nope.transcript"))
    assert done.returncode == 2
    assert "no such transcript file or directory" in done.stderr
