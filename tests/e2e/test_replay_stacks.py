"""`recipe replay PATHS --stack S [--stack T] -j N`: the single-host goldens replayed on real stack
nodes, lab by stack, several at once; bad input in one line; the JSON held to its schema; the
nodes the command made gone afterwards, after Ctrl-C too."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import transcript as tr
from generator.hosts import inventory
from tests.cli_runner import ENTRY, ROOT, assert_one_line_error, invoke
from tests.json_schema import problems, schema

pytestmark = pytest.mark.root
GOLDEN = ROOT / "transcripts"
SMALL = ("veth-pair", "netns-basics")  # two cheap goldens: namespaces and veths, no Docker


def _goldens(folder: Path, *labs: str) -> list[Path]:
    """Copies of goldens in a folder of their own, so --update and stacks/ stay in tmp_path."""
    folder.mkdir(exist_ok=True)
    for lab in labs:
        shutil.copyfile(GOLDEN / f"{lab}.transcript", folder / f"{lab}.transcript")
    return [folder / f"{lab}.transcript" for lab in labs]


def _replay(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "replay", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _cells(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["lab"], cell["stack"]): cell for row in data["labs"] for cell in row["cells"]}


def _words(done: subprocess.CompletedProcess[str]) -> str:
    """Each cell in a few words, and the reasons of what drifted, for an assertion's message."""
    try:
        cells = _cells(json.loads(done.stdout))
    except ValueError:
        return done.stdout + done.stderr
    return str({key: (c["words"], (c["report"] or {}).get("drifts")) for key, c in cells.items()})


@pytest.fixture
def stack_nodes(machine: None) -> Callable[[], set[str]]:
    """The machine's, for tests that make stack nodes: names in the inventory, compared before
    and after, so a test fails when the command leaves a node it made."""
    from generator.hosts import nodes

    if nodes.missing_tools():
        pytest.skip(f"stack nodes need {', '.join(nodes.missing_tools())}")
    return lambda: set(inventory.load())


# ------------------------------------------------------------------ bad input, no node made


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["--stack", "debian-14"],
            "'debian-14' is not one of debian-12, debian-13; did you mean",
        ),
        (["--stack", "debian-12", "--host", "docker-node1"], "leave out --host"),
        (["--stack", "debian-12", "-j", "0"], "-j 0: give 1 or more"),
        (["-j", "2"], "name the stacks with --stack"),
        (["--stack", "debian-12", "--image", "busybox=busybox:1"], "--image works with Markdown"),
    ],
)
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    assert_one_line_error(invoke("replay", str(GOLDEN / "veth-pair.transcript"), *args), fragment)


def test_a_damaged_stack_recording_is_bad_input(tmp_path: Path) -> None:
    (golden,) = _goldens(tmp_path, "veth-pair")
    damaged = tmp_path / "stacks" / "debian-13" / golden.name
    damaged.parent.mkdir(parents=True)
    damaged.write_text("not a transcript\n")
    done = invoke("replay", str(tmp_path), "--stack", "debian-13", "--dry-run")
    assert_one_line_error(done, str(damaged))


# ------------------------------------------------------------------ the plan, no node made


def test_dry_run_names_each_cells_reference(tmp_path: Path) -> None:
    veth, netns = _goldens(tmp_path, *SMALL)
    shutil.copyfile(GOLDEN / "vxlan.transcript", tmp_path / "vxlan.transcript")
    own = tmp_path / "stacks" / "debian-13" / veth.name
    own.parent.mkdir(parents=True)
    shutil.copyfile(veth, own)
    done = invoke(
        "replay", str(tmp_path), "--stack", "debian-12", "--stack", "debian-13", "--dry-run",
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert problems(data, schema("replay-matrix")) == []
    assert data["dry_run"] and data["stacks"] == ["debian-12", "debian-13"]
    assert [row["lab"] for row in data["labs"]] == ["netns-basics", "veth-pair", "vxlan"]
    cells = _cells(data)
    assert cells["veth-pair", "debian-13"]["reference"] == str(own)
    assert cells["veth-pair", "debian-13"]["notes"] == []
    assert cells["netns-basics", "debian-13"]["reference"] == str(netns)
    assert cells["netns-basics", "debian-13"]["notes"] == [
        "no debian-13 recording; compared with the debian-12 one"
    ]
    assert cells["netns-basics", "debian-12"]["reference"] == str(netns)
    for stack in data["stacks"]:  # a two-host lab runs on each stack's pair
        assert cells["vxlan", stack]["reference"] == str(tmp_path / "vxlan.transcript")


def test_plain_replay_leaves_the_stacks_folder_alone(tmp_path: Path) -> None:
    (veth,) = _goldens(tmp_path, "veth-pair")
    own = tmp_path / "stacks" / "debian-13" / veth.name
    own.parent.mkdir(parents=True)
    shutil.copyfile(veth, own)
    done = invoke("replay", str(tmp_path), "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert [t["path"] for t in json.loads(done.stdout)["transcripts"]] == [str(veth)]


# ------------------------------------------------------------------ real nodes


def test_two_labs_at_once_on_two_nodes(stack_nodes: Callable[[], set[str]], tmp_path: Path) -> None:
    before = stack_nodes()
    paths = _goldens(tmp_path, *SMALL)
    done = _replay(*map(str, paths), "--stack", "debian-12", "-j", "2", "--json")
    data = json.loads(done.stdout)
    assert problems(data, schema("replay-matrix")) == [], done.stderr
    cells = _cells(data)
    assert {cells[lab, "debian-12"]["state"] for lab in SMALL} == {"holds"}, done.stderr
    assert done.returncode == 0 and data["ok"]
    # Two nodes, one lab each at a time: both ran at once.
    assert {cells[lab, "debian-12"]["node"] for lab in SMALL} == {"debian-12-1", "debian-12-2"}
    assert data["summary"] == [
        {"stack": "debian-12", "holds": 2, "drifts": 0, "failed": 0, "not_run": 0}
    ]
    assert stack_nodes() == before, done.stderr  # what it made, it took down


def test_a_matrix_of_two_stacks_and_update(
    stack_nodes: Callable[[], set[str]], stack_root: Callable[[str], Path], tmp_path: Path
) -> None:
    """veth-pair on debian-12 and debian-13: the text matrix; --update writes the debian-13 run
    as stacks/debian-13/veth-pair.transcript, which the next replay holds against."""
    stack_root("debian-13")
    before = stack_nodes()
    (veth,) = _goldens(tmp_path, "veth-pair")
    stacks = ["--stack", "debian-12", "--stack", "debian-13", "-j", "2"]
    done = _replay(str(veth), *stacks, "--color", "never")
    assert done.returncode in (0, 1), done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["lab", "debian-12", "debian-13"]
    assert lines[1].split()[:2] == ["veth-pair", "holds"] and lines[1].endswith(" *")
    assert "* debian-13: no debian-13 recording; compared with the debian-12 one" in lines
    assert "debian-12: 1 of 1 lab hold, 0 drifting, 0 failed" in lines
    assert any(line.startswith("debian-13: ") for line in lines)
    if done.returncode == 1:  # the drift is shown, compared with the debian-12 golden
        assert f"veth-pair on debian-13 (debian-13-1, compared with {veth}):" in lines
    updated = _replay(str(veth), *stacks, "--update", "--json", "-q")
    assert updated.returncode == 0, _words(updated)
    written = tmp_path / "stacks" / "debian-13" / veth.name
    assert _cells(json.loads(updated.stdout))["veth-pair", "debian-13"]["written"] == str(written)
    header = tr.read(written).header
    assert header.facts.distribution.startswith("Debian GNU/Linux 13 ")
    assert header.target == "local"  # a plain replay of it runs where the golden's does
    assert veth.read_bytes() == (GOLDEN / veth.name).read_bytes()  # held: left as it was
    again = _replay(str(veth), *stacks, "--json", "-q")
    cell = _cells(json.loads(again.stdout))["veth-pair", "debian-13"]
    assert (cell["reference"], cell["state"], cell["notes"]) == (str(written), "holds", [])
    assert again.returncode == 0, _words(again)
    assert stack_nodes() == before


def test_ctrl_c_takes_down_the_nodes_it_made(
    stack_nodes: Callable[[], set[str]], tmp_path: Path
) -> None:
    before = stack_nodes()
    paths = _goldens(tmp_path, "netns-basics", "veth-pair", "linux-bridge")
    command = [sys.executable, "-c", ENTRY, "replay", *map(str, paths), "--stack", "debian-12"]
    child = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the first lab done: the second one is running
        line = child.stderr.readline()
        seen.append(line)
        if not line or line.startswith("recipe: netns-basics on "):
            break
    child.send_signal(signal.SIGINT)
    _, rest = child.communicate(timeout=120)
    assert child.returncode == 130, "".join(seen) + rest
    assert "failed" not in rest  # the labs it stopped are no failures of theirs
    assert stack_nodes() == before, "".join(seen) + rest
