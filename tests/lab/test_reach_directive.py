"""`#@ reach` inside a run, on real namespaces: the matrix checked after its step, recorded in
the transcript, compared by replay, drawn on the page; and a broken path fails the run naming
exactly that pair."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.errors import UserError
from generator.lab import reach_directive
from generator.transcript import matrix
from generator.transcript.records import VERSION
from tests.lab.lab_cli import netns_names, recipe

A, B = "rcp-rd-a", "rcp-rd-b"
NET = "10.213.9"
# Echo requests from A only: B's own echoes still get their replies, so only A -> B breaks.
DROP = (
    f"\nip netns exec {B} iptables -A INPUT -s {NET}.1 -p icmp --icmp-type echo-request -j DROP\n"
)
pytestmark = pytest.mark.root


def lab(extra_step: str = "", directive: str = "#@ reach") -> str:
    """A veth pair between A and B, its ends up before their addresses, so the links have
    settled by the time the state is observed."""
    return f"""#!/usr/bin/env bash
#@ timeout 20
set -euo pipefail
#@ teardown
teardown() {{
  set +e
  ip netns delete {A} 2>/dev/null
  ip netns delete {B} 2>/dev/null
}}
trap teardown EXIT
#@ end-teardown

#@ steps
ip netns add {A}

ip netns add {B}

ip link add rcp-rd-va netns {A} type veth peer name rcp-rd-vb netns {B}

ip -n {A} link set rcp-rd-va up

ip -n {B} link set rcp-rd-vb up

ip -n {A} addr add {NET}.1/24 dev rcp-rd-va

ip -n {B} addr add {NET}.2/24 dev rcp-rd-vb
{extra_step}
# Who reaches whom: A and B each other.
{directive}
ip -n {A} link set lo up
"""


def run(
    tmp_path: Path, env: dict[str, str], script: str, *args: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "lab.sh"
    path.write_text(script)
    return recipe("run", str(path), "--record", str(tmp_path / "lab.transcript"), *args, env=env)


def test_a_reach_step_checks_records_and_replays_the_matrix(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    done = run(tmp_path, env, lab())
    assert done.returncode == 0, done.stderr
    assert "reachability on local: 2 endpoints, 2 pairs" in done.stderr
    assert "the matrix holds" in done.stderr
    recorded = tr.read(tmp_path / "lab.transcript")
    assert recorded.version == VERSION
    (reach,) = recorded.reaches
    assert reach.after_step == 8 and reach.directives == ("",)
    cells = {(c.source, c.target): c for c in reach.matrix.cells}
    assert set(cells) == {(A, B), (B, A)}
    assert cells[(A, B)].segment == f"veth {A}-{B}" and cells[(A, B)].actual
    replayed = recipe("replay", str(tmp_path / "lab.transcript"), "--recorded-commands", env=env)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    # A recording in which A did not reach B: the replay, where it does, names that pair alone.
    cell = dataclasses.replace(cells[(A, B)], actual=False, detail="no reply")
    old = dataclasses.replace(reach.matrix, cells=(cell, cells[(B, A)]))
    edited = dataclasses.replace(recorded, reaches=(dataclasses.replace(reach, matrix=old),))
    (tmp_path / "old.transcript").write_text(tr.format_transcript(edited))
    replayed = recipe("replay", str(tmp_path / "old.transcript"), "--recorded-commands", env=env)
    assert replayed.returncode == 1
    assert (
        f"after step 8: {A} -> {B} (veth {A}-{B}): did not reach as recorded, reached now (ok)"
        in replayed.stdout
    )
    assert "1 change in the reachability matrices" in replayed.stdout
    assert A not in netns_names()


def test_a_drop_between_two_fails_the_run_naming_exactly_that_pair(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    drop = DROP
    done = run(tmp_path, env, lab(drop))
    assert done.returncode == 1
    assert "the reachability matrix after step 9 does not hold" in done.stderr
    wrong = [line for line in done.stderr.splitlines() if "likely cause" in line]
    assert len(wrong) == 1 and f"{A} -> {B} ({NET}.2): expected to reach" in wrong[0]
    assert f"a firewall rule in {B}: -A INPUT -s {NET}.1/32" in wrong[0]
    (reach,) = tr.read(tmp_path / "lab.transcript").reaches
    assert [(c.source, c.target) for c in reach.matrix.contradictions] == [(A, B)]
    assert A not in netns_names()  # torn down all the same
    # the pages draw it: expected against actual, the failing pair named
    for form, name in (("md", "lab.md"), ("html", "lab.html")):
        made = recipe(
            "docs", str(tmp_path / "lab.transcript"), "-o", str(tmp_path), "-f", form, env=env
        )
        assert made.returncode == 0, made.stderr
        page = (tmp_path / name).read_text()
        assert "Who reaches whom after step 9" in page
        assert page.count("FAIL: expected yes, got no") == 1
        assert page.count(f"{A} -&gt; {B} ({NET}.2): expected to reach") == 1


def test_a_rule_that_expects_the_drop_holds_and_json_is_exact(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    drop = DROP
    done = run(tmp_path, env, lab(drop, f"#@ reach {A} -> {B}: no"))
    assert done.returncode == 0, done.stderr
    (reach,) = tr.read(tmp_path / "lab.transcript").reaches
    assert reach.matrix.rules == (f"{A} -> {B}: no",)
    assert reach.matrix.holds
    assert matrix.from_data(json.loads(json.dumps(matrix.to_data(reach.matrix)))) == reach.matrix
    pairs = reach.matrix.to_json()["pairs"]
    assert [(p["source"], p["expected"], p["actual"]) for p in pairs] == [
        (A, False, False),
        (B, True, True),
    ]


def test_a_rule_matching_nothing_fails_the_run_in_one_line(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    done = run(tmp_path, env, lab("", f"#@ reach {A} -> nobody: no"))
    assert done.returncode == 1
    assert "could not run: unknown endpoint nobody in reach rule" in done.stderr
    assert "Traceback" not in done.stderr and A not in netns_names()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("a => b", "bad '#@ reach' part 'a => b'"),
        ("tcp 0", "a TCP port is a number from 1 to 65535"),
        ("a -> b: maybe", "bad reach rule"),
    ],
)
def test_a_bad_directive_is_one_line_naming_where(value: str, fragment: str) -> None:
    with pytest.raises(UserError) as raised:
        reach_directive.add(None, value, "lab.sh:7")
    assert str(raised.value).startswith("lab.sh:7: ") and fragment in str(raised.value)


def test_directives_add_up_and_read_back() -> None:
    spec = reach_directive.add(None, "only rcp-*; tcp 80 443", "x:1")
    spec = reach_directive.add(spec, "a -> b: no; with-host", "x:2")
    assert spec.only == ("rcp-*",) and spec.ports == (80, 443) and spec.with_host
    assert [r.text for r in spec.rules] == ["a -> b: no"]
    assert reach_directive.of_lines(spec.lines, "t") == spec
