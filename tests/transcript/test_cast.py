"""The asciicast export (generator/transcript/cast.py): the prompt of the host each step ran on,
a width that fits, commands at once unless --typing, a final prompt, escaped names and labels,
and a file that asciicast v2 players read."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.transcript import cast_layout
from generator.transcript.cast import to_cast
from generator.transcript.expectation import Expectation
from generator.transcript.facts import HostFacts
from tests import docs_samples
from tests.cli_runner import ROOT, invoke

GOLDENS = ROOT / "transcripts"
MULTI_HOST = ("swarm-overlay", "vxlan")


def golden(name: str) -> tr.Transcript:
    return tr.read(GOLDENS / f"{name}.transcript")


def parsed(cast: str) -> tuple[dict[str, object], list[list[object]]]:
    """The header and events of a valid asciicast v2 file; fails on anything else."""
    assert cast.endswith("\n")
    first, *rest = cast.splitlines()
    header = json.loads(first)
    assert isinstance(header, dict) and header["version"] == 2
    for key in ("width", "height"):
        assert isinstance(header[key], int) and header[key] > 0, header
    events = [json.loads(line) for line in rest]
    for event in events:
        assert isinstance(event, list) and len(event) == 3, event
        time, code, data = event
        assert isinstance(time, float | int) and time >= 0
        assert code in ("o", "m") and isinstance(data, str)
    times = [event[0] for event in events]
    assert times == sorted(times), "event times go back"
    return header, events


def output(events: list[list[object]]) -> list[str]:
    return [str(e[2]) for e in events if e[1] == "o"]


def with_steps(*commands: str, facts: HostFacts = docs_samples.FACTS) -> tr.Transcript:
    header = tr.Header(None, {}, "0" * 64, "-", "local", facts, "2026-01-01T00:00:00Z", "test")
    steps = tuple(
        tr.StepRecord(i, "main", command, Expectation(), 0, 0.1, "ok", stdout=f"out {i}\n")
        for i, command in enumerate(commands, 1)
    )
    return tr.Transcript(header, steps, None)


@pytest.mark.parametrize("name", MULTI_HOST)
def test_a_multi_host_cast_shows_the_node_of_each_step(name: str) -> None:
    lab = golden(name)
    _, events = parsed(to_cast(lab))
    shown = output(events)
    for role in ("docker-node1", "docker-node2"):
        assert any(text.startswith(f"root@{role}:~# ") for text in shown), role
    # Each step's command follows its own host's prompt, in the order the steps ran.
    commands = [t for t in shown if t.startswith("root@")][:-1]
    assert len(commands) == len(lab.steps)
    for step, text in zip(lab.steps, commands, strict=True):
        first = step.command.split("\n", 1)[0]
        assert text.startswith(f"root@{step.role}:~# {first}"), (step.index, text)


def test_a_local_cast_shows_the_recorded_hostname() -> None:
    _, events = parsed(to_cast(golden("veth-pair")))
    prompts = [text for text in output(events) if text.startswith("root@")]
    assert prompts[0] == "root@vm:~# ip netns add test1\r\n"


def test_the_hostname_not_the_role_label_and_the_users_sign() -> None:
    facts = HostFacts(host="node1=docker-node1,node2=", user="vagrant")
    assert cast_layout.prompt(facts, "node1") == "vagrant@docker-node1:~$ "
    assert cast_layout.prompt(facts, "node2") == "vagrant@node2:~$ "  # no name recorded
    assert cast_layout.prompt(facts, None) == "vagrant@docker-node1:~$ "  # the first role's
    assert cast_layout.prompt(HostFacts(), None) == "root@localhost:~# "


def test_the_width_fits_the_longest_line_within_its_bounds() -> None:
    short = parsed(to_cast(with_steps("true")))[0]
    assert short["width"] == cast_layout.MIN_WIDTH
    prompt = len("root@labhost:~# ")
    long = parsed(to_cast(with_steps("true", "echo " + "x" * 140)))[0]
    assert long["width"] == prompt + 5 + 140
    capped = parsed(to_cast(with_steps("echo " + "x" * 400)))[0]
    assert capped["width"] == cast_layout.MAX_WIDTH
    assert golden("swarm-overlay").steps  # and a golden with 175-cell lines gets them
    assert parsed(to_cast(golden("swarm-overlay")))[0]["width"] == 175


def test_width_counts_terminal_cells() -> None:
    assert cast_layout.cells("网络" * 50) == 200  # wide characters take two cells
    assert cast_layout.cells("e\u0301" * 90) == 90  # a combining accent takes none
    assert cast_layout.cells("\x1b[1;31m" + "x" * 90 + "\x1b[0m") == 90  # colours take none
    assert cast_layout.cells("progress 10%\rprogress 100% done") == 18
    assert cast_layout.cells("a\tb") == 9


def test_the_height_fits_the_tallest_step_within_its_bounds() -> None:
    assert parsed(to_cast(with_steps("true")))[0]["height"] == cast_layout.MIN_HEIGHT
    lab = with_steps("seq 30")
    lab = replace(lab, steps=(replace(lab.steps[0], stdout="1\n" * 30),))
    assert parsed(to_cast(lab))[0]["height"] == 30 + 2  # the output, its prompt, the next one
    huge = replace(lab, steps=(replace(lab.steps[0], stdout="1\n" * 500),))
    assert parsed(to_cast(huge))[0]["height"] == cast_layout.MAX_HEIGHT


def test_the_cast_ends_on_the_prompt_of_the_last_host() -> None:
    lab = golden("swarm-overlay")
    last = lab.steps[-1]
    assert last.phase == "teardown"
    _, events = parsed(to_cast(lab))
    assert events[-1][1:] == ["o", f"root@{last.role}:~# "]
    assert float(str(events[-1][0])) > float(
        str(events[-2][0])
    )  # after the teardown's output, not on top of it
    _, empty = parsed(to_cast(with_steps()))
    assert empty == [[0.0, "o", "root@labhost:~# "]]


def test_one_marker_per_step_says_number_phase_and_command() -> None:
    lab = golden("swarm-overlay")
    _, events = parsed(to_cast(lab))
    markers = [e[2] for e in events if e[1] == "m"]
    assert len(markers) == len(lab.steps)
    assert markers[0] == "step 1 (main): docker swarm init --advertise-addr 192.168.205.10"
    assert str(markers[-1]).startswith(f"step {lab.steps[-1].index} (teardown): ")
    assert all(len(str(m)) <= 90 for m in markers)  # a chapter list stays readable


def test_a_hostile_transcript_shows_its_names_escaped() -> None:
    hostile = "evil\x1b]0;pwned\x07\x1b[2J"
    text = (GOLDENS / "swarm-overlay.transcript").read_text(encoding="utf-8")
    text = text.replace("=docker-node2\n", f"={hostile}\n", 1)
    text = text.replace("user: root\n", "user: r\x1b[8m\n", 1)
    text = text.replace("  | docker swarm init", "  | docker \x1b]0;x\x07swarm init", 1)
    lab = tr.parse(text)
    assert hostile in lab.header.facts.host  # the reader keeps it; the cast must not pass it on
    _, events = parsed(to_cast(lab))
    added = [str(e[2]) for e in events if e[1] == "m" or str(e[2]).startswith("r\\x1b")]
    assert len(added) > 2 * len(lab.steps)
    assert not any("\x1b" in text or "\x07" in text for text in added)
    assert any("r\\x1b[8m@evil\\x1b]0;pwned\\x07\\x1b[2J:~$ " in t for t in added)
    assert added[0].startswith("step 1 (main): docker \\x1b]0;x\\x07swarm init")


def test_a_hostile_hostname_is_cut_to_a_hostnames_length() -> None:
    facts = HostFacts(host="h" * 5000, user="root")
    assert len(cast_layout.prompt(facts, None)) < 80


@pytest.mark.parametrize("typing", [False, True])
def test_export_types_commands_only_with_typing(tmp_path: Path, typing: bool) -> None:
    path = docs_samples.transcript(tmp_path / "lab.transcript")
    done = invoke("export", str(path), *(["--typing"] if typing else []))
    assert done.returncode == 0, done.stderr
    _, events = parsed(done.stdout)
    shown = output(events)
    whole = "root@labhost:~# ip netns add test1\r\n"
    if not typing:
        assert whole in shown  # the prompt and the command in one event
        assert "ip link show dev veth-test1" in shown[shown.index(whole) + 2]
        return
    assert whole not in shown
    start = shown.index("root@labhost:~# ")
    assert shown[start + 1 : start + 4] == ["i", "p", " "]  # a key at a time
    assert "".join(shown).count(whole) == 1  # and the screen reads the same
    assert "\r\n> " in shown  # a continuation line is one key, with its prompt


def test_typing_is_paced_but_never_slow() -> None:
    lab = with_steps("echo " + "x" * 1000)
    _, events = parsed(to_cast(lab, typing=True))
    typed = [e for e in events if e[1] == "o" and e[2] == "x"]
    assert len(typed) == 1000
    assert 0 < float(str(typed[-1][0])) - float(str(typed[0][0])) <= 2.0


@pytest.mark.skipif(shutil.which("asciinema") is None, reason="asciinema is not installed")
@pytest.mark.parametrize("typing", [False, True])
def test_asciinema_plays_a_multi_host_cast(tmp_path: Path, typing: bool) -> None:
    cast = tmp_path / "swarm.cast"
    cast.write_text(to_cast(golden("swarm-overlay"), typing=typing), encoding="utf-8")
    # `asciinema cat` wants a terminal; script(1) gives it one.
    played = subprocess.run(
        ["script", "-qec", f"asciinema cat {cast}", "/dev/null"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert played.returncode == 0, played.stdout + played.stderr
    screen = played.stdout
    assert "root@docker-node1:~# docker swarm init" in screen
    assert "root@docker-node2:~# " in screen
    assert screen.rstrip().endswith("root@docker-node2:~#")
