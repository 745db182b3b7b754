"""Replay compares what the network IS, not only what the steps print: a lab rewired between the
recording and the replay drifts even though no step prints the change, and the report names the
edge. The labs read where to wire from a file, so the same recorded commands build another
wiring when the file says so."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from tests import busybox_image
from tests.lab.lab_cli import recipe

pytestmark = pytest.mark.root

BRIDGES = """\
#@ teardown
teardown() {{
  ip netns del rcp-rw-ns
  ip link del rcp-rw-br1
  ip link del rcp-rw-br2
}}
#@ end-teardown
#@ steps
ip netns add rcp-rw-ns
ip link add rcp-rw-br1 type bridge
ip link add rcp-rw-br2 type bridge
ip link add rcp-rw-h type veth peer name rcp-rw-c netns rcp-rw-ns
# Where the veth goes is read from a file: the command is the same both times.
ip link set rcp-rw-h master "$(cat {where})"
ip -n rcp-rw-ns addr add 10.203.0.2/24 dev rcp-rw-c
ip link set rcp-rw-h up
"""

NETWORKS = """\
#@ teardown
teardown() {{
  docker rm -f rcp-rw-box
  docker network rm rcp-rw-a rcp-rw-b
}}
#@ end-teardown
#@ steps
docker network create rcp-rw-a
docker network create rcp-rw-b
docker run -d --name rcp-rw-box --network "$(cat {where})" busybox sleep 300
"""


def _record_then_rewire(
    tmp_path: Path, env: dict[str, str], script: str, first: str, then: str
) -> subprocess.CompletedProcess[str]:
    where = tmp_path / "where"
    lab = tmp_path / "lab.sh"
    lab.write_text(script.format(where=where))
    golden = tmp_path / "lab.transcript"
    where.write_text(first)
    done = recipe("run", str(lab), "--record", str(golden), "-q", env=env)
    assert done.returncode == 0, done.stderr
    assert [s.label for s in tr.read(golden).snapshots] == ["end of main"]
    again = recipe(
        "replay", str(golden), "--recorded-commands", "--quiet", "--color", "never", env=env
    )
    assert again.returncode == 0, again.stdout + again.stderr  # the same wiring: no drift
    where.write_text(then)
    return recipe(
        "replay",
        str(golden),
        "--recorded-commands",
        "--quiet",
        "--color",
        "never",
        "--json",
        env=env,
    )


def test_a_veth_on_another_bridge_is_drift_that_names_the_edge(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    done = _record_then_rewire(tmp_path, env, BRIDGES, "rcp-rw-br1", "rcp-rw-br2")
    assert done.returncode == 1, done.stdout + done.stderr
    (report,) = json.loads(done.stdout)["transcripts"]
    assert report["drifts"] == []  # no step printed it...
    assert report["state"] == [  # ...but the observed graph holds it
        "port rcp-rw-h is on rcp-rw-br1 in the recording, on rcp-rw-br2 now"
    ]


@pytest.mark.docker
def test_a_container_on_another_network_is_drift_that_names_the_edge(
    clean_machine: None, docker_engine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    busybox_image.ensure()
    done = _record_then_rewire(tmp_path, env, NETWORKS, "rcp-rw-a", "rcp-rw-b")
    assert done.returncode == 1, done.stdout + done.stderr
    (report,) = json.loads(done.stdout)["transcripts"]
    assert report["drifts"] == []
    assert "rcp-rw-box is on rcp-rw-a in the recording, on rcp-rw-b now" in report["state"]
    path = str(tmp_path / "lab.transcript")
    text = recipe("replay", path, "--recorded-commands", "--color", "never", env=env)
    assert "observed state:" in text.stdout
    assert "rcp-rw-box is on rcp-rw-a in the recording, on rcp-rw-b now" in text.stdout


def test_a_snapshot_step_observes_the_lab_as_it_stands_then(
    clean_machine: None, tmp_path: Path, env: dict[str, str]
) -> None:
    lab = tmp_path / "lab.sh"
    lab.write_text(
        "#@ teardown\nteardown() {\n  ip netns del rcp-rw-early\n  ip netns del rcp-rw-late\n}\n"
        "#@ end-teardown\n#@ steps\n#@ snapshot one namespace\nip netns add rcp-rw-early\n"
        "ip netns exec rcp-rw-early ip link set lo up\nip netns add rcp-rw-late\n"
    )
    golden = tmp_path / "lab.transcript"
    done = recipe("run", str(lab), "--record", str(golden), "-q", env=env)
    assert done.returncode == 0, done.stderr
    first, last = tr.read(golden).snapshots
    assert (first.label, first.after_step) == ("one namespace", 1)
    assert (last.label, last.after_step) == ("end of main", 3)
    assert first.state.namespace("netns:rcp-rw-early") is not None
    assert first.state.namespace("netns:rcp-rw-late") is None
    assert last.state.namespace("netns:rcp-rw-late") is not None
    early = first.state.namespace("netns:rcp-rw-early")
    assert early is not None and early.links[0].state == "DOWN"  # lo is not up yet
    # what the lab made is not listed as there before it
    assert "namespace netns:rcp-rw-early" not in last.state.preexisting
    assert "namespace host" in last.state.preexisting
    again = recipe(
        "replay", str(golden), "--recorded-commands", "--quiet", "--color", "never", env=env
    )
    assert again.returncode == 0, again.stdout + again.stderr
