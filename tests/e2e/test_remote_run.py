"""`recipe run --host` end to end on the virtual nodes: every single-host recipe on docker-node1,
the multi-host recipes across both nodes, and faults in the middle of a run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.hosts import nodes as hosts
from generator.recipes import catalog as recipes

pytestmark = pytest.mark.root
ROOT = Path(__file__).resolve().parents[2]
SINGLE_HOST = sorted(r.name for r in recipes.load_all() if not r.hosts)
MULTI_HOST = sorted(r.name for r in recipes.load_all() if r.hosts)


CLI = [sys.executable, "-c", "from generator.cli import main; main()"]


@pytest.fixture(autouse=True)
def lab_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept-lab records of these runs go to the test's own folder."""
    monkeypatch.setenv("RECIPE_STATE_DIR", str(tmp_path / "labs"))


def recipe(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT
    )


@pytest.mark.parametrize("name", SINGLE_HOST)
def test_single_host_recipe_runs_green_on_docker_node1(
    virtual_nodes: None, name: str, tmp_path: Path
) -> None:
    path = tmp_path / "run.transcript"
    done = recipe("run", name, "--host", "docker-node1", "--record", str(path), "-q")
    assert done.returncode == 0, done.stderr
    record = tr.read(path)
    assert record.status == "passed" and record.outcome is not None and record.outcome.complete
    assert record.header.target == "docker-node1"
    assert record.header.facts.host == "docker-node1"  # the node's own hostname, seen from inside


def test_vxlan_across_both_nodes(virtual_nodes: None, tmp_path: Path) -> None:
    path = tmp_path / "vxlan.transcript"
    done = recipe(
        "run",
        "vxlan",
        "--host",
        "docker-node1",
        "--host",
        "docker-node2",
        "--record",
        str(path),
        "-q",
    )
    assert done.returncode == 0, done.stderr
    record = tr.read(path)
    assert record.status == "passed"
    # The capture lives in a private mktemp file on docker-node2, never a fixed name in /tmp.
    assert not any("/tmp/" in s.command for s in record.steps)
    capture = next(
        s for s in record.steps if s.command == 'wait; cat "$capture"' and s.phase == "main"
    )
    assert capture.role == "docker-node2" and "vni 42" in capture.stdout
    assert {s.role for s in record.steps} == {"docker-node1", "docker-node2"}


def test_swarm_overlay_across_both_nodes(virtual_nodes: None, tmp_path: Path) -> None:
    path = tmp_path / "swarm.transcript"
    # ROLE=HOST works in any order.
    done = recipe(
        "run",
        "swarm-overlay",
        "--host",
        "docker-node2=docker-node2",
        "--host",
        "docker-node1=docker-node1",
        "--record",
        str(path),
        "-q",
    )
    assert done.returncode == 0, done.stderr
    record = tr.read(path)
    pings = [s for s in record.steps if "ping" in s.command and s.phase == "main"]
    assert [s.role for s in pings] == ["docker-node2", "docker-node1"]
    assert all(" 0% packet loss" in s.stdout for s in pings)


@pytest.mark.parametrize("name", MULTI_HOST)
def test_plain_bash_refuses_a_multi_host_lab(name: str, tmp_path: Path) -> None:
    script = tmp_path / "lab.sh"
    script.write_text(recipe("render", name).stdout)
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "recipe run lab.sh --host docker-node1 --host docker-node2" in done.stderr
    assert done.stdout == ""


def test_host_count_must_match_the_roles() -> None:
    done = recipe("run", "vxlan", "--host", "docker-node1")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "runs on 2 hosts (roles docker-node1, docker-node2)" in done.stderr
    done = recipe("run", "veth-pair", "--host", "docker-node1", "--host", "docker-node2")
    assert done.returncode == 2 and "give --host once" in done.stderr


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _session_processes(node: hosts.Node) -> list[int]:
    """The sshd processes serving connections (each sshd whose parent is sshd): killing them
    drops every connection to the node while its sshd keeps listening."""
    sshds = [
        p for p in hosts.members(node) if Path(f"/proc/{p}/comm").read_text().strip() == "sshd"
    ]
    return [p for p in sshds if _parent(p) in sshds]


def _start_run(tmp_path: Path, teardown: str, steps: str) -> tuple[subprocess.Popen[str], Path]:
    """`recipe run` of a small hand-written script on docker-node1, in the background."""
    script = tmp_path / "lab.sh"
    script.write_text(
        f"#@ teardown\nteardown() {{\n  {teardown}\n}}\n#@ end-teardown\n#@ steps\n{steps}\n"
    )
    path = tmp_path / "run.transcript"
    run = subprocess.Popen(
        [*CLI, "run", str(script), "--host", "docker-node1", "--record", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return run, path


def test_dropped_connection_keeps_an_incomplete_transcript(
    virtual_nodes: None, tmp_path: Path
) -> None:
    run, path = _start_run(
        tmp_path, "rm -f /tmp/issue4-drop", "touch /tmp/issue4-drop\n\nsleep 20\n\necho never"
    )
    deadline = time.monotonic() + 20
    while not Path("/tmp/issue4-drop").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    for pid in _session_processes(hosts.NODES[0]):
        subprocess.run(["kill", "-KILL", str(pid)], check=False, capture_output=True)
    _, err = run.communicate(timeout=60)
    Path("/tmp/issue4-drop").unlink(missing_ok=True)  # the teardown could not run: do it here
    assert run.returncode == 1
    assert "connection dropped" in err or "connection lost" in err
    record = tr.read(path)
    assert record.status == "incomplete" and record.outcome is not None
    assert not record.outcome.complete
    assert "lost the shell session" in record.outcome.reason
    assert [s.command for s in record.steps] == ["touch /tmp/issue4-drop"]


def test_hanging_step_times_out_and_the_teardown_still_runs(
    virtual_nodes: None, tmp_path: Path
) -> None:
    script = tmp_path / "lab.sh"
    script.write_text(
        "#@ teardown\nteardown() {\n  ip netns delete issue4-hang\n}\n#@ end-teardown\n#@ steps\n"
        "ip netns add issue4-hang\n\n#@ timeout 1\nsleep 30\n"
    )
    path = tmp_path / "hang.transcript"
    done = recipe("run", str(script), "--host", "docker-node1", "--record", str(path))
    assert done.returncode == 1
    record = tr.read(path)
    hung = record.steps[1]
    assert hung.timed_out and "timed out after" in hung.stderr
    assert record.steps[-1].phase == "teardown" and record.steps[-1].exit == 0
    assert record.status == "failed" and record.outcome is not None and not record.outcome.leftovers


def test_unreachable_host_is_one_line(tmp_path: Path) -> None:
    done = recipe("run", "veth-pair", "--host", "root@127.0.0.1:1", "--no-record")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "cannot connect: Connection refused" in done.stderr


def test_ctrl_c_stops_the_remote_step_and_tears_down(virtual_nodes: None, tmp_path: Path) -> None:
    from generator.shell.ssh import SSHShell
    from generator.shell.ssh_target import resolve

    run, path = _start_run(
        tmp_path,
        "ip netns delete issue4-int",
        "ip netns add issue4-int\n\necho before the stop; sleep 31",
    )
    with SSHShell(resolve("docker-node1")) as node:
        deadline = time.monotonic() + 20
        while node.run("pgrep -f 'sleep 31'", 10).exit != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
        assert run.returncode == 130, err
        assert node.run("pgrep -f 'sleep 31'", 10).exit == 1  # the step was stopped on the node
        assert "issue4-int" not in node.run("ip netns list", 10).stdout  # and torn down
    record = tr.read(path)
    assert record.status == "interrupted"
    assert record.steps[0].command == "ip netns add issue4-int"
    # The stopped step is recorded as interrupted, with what it printed on the node until then.
    stopped = record.main_steps[-1]
    assert stopped.interrupted and stopped.exit == 130 and stopped.stdout == "before the stop\n"
    assert record.steps[-1].phase == "teardown" and record.steps[-1].exit == 0


def _docker_on(node: hosts.Node, *args: str, check: bool = True) -> str:
    """stdout of `docker ARGS` against the node's own engine, from this machine."""
    done = subprocess.run(
        ["docker", "-H", f"unix://{node.socket}", *args],
        capture_output=True,
        text=True,
        check=check,
    )
    return done.stdout.strip()


def _swarm_overlay(*args: str) -> subprocess.CompletedProcess[str]:
    return recipe("run", "swarm-overlay", "--host", "docker-node1", "--host", "docker-node2", *args)


def test_a_multi_host_lab_refuses_a_name_taken_on_one_of_its_hosts(
    virtual_nodes: None, tmp_path: Path
) -> None:
    """Each host's names are checked on that host before any step: a container test2 on
    docker-node2 stops the run, and nothing of the lab is made on docker-node1."""
    node1, node2 = hosts.NODES
    _docker_on(node2, "run", "-d", "--name", "test2", "busybox", "sleep", "300")
    try:
        done = _swarm_overlay("--record", str(tmp_path / "t.transcript"))
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines()[-1] == (
            "recipe: docker-node2: container test2 already exists; "
            "remove it or choose another name with --set"
        ), done.stderr
        # No step ran on the manager, and the squatter still runs.
        assert _docker_on(node1, "info", "--format", "{{.Swarm.LocalNodeState}}") == "inactive"
        assert _docker_on(node2, "inspect", "-f", "{{.State.Running}}", "test2") == "true"
    finally:
        _docker_on(node2, "rm", "-f", "test2", check=False)


def test_a_host_already_in_a_swarm_is_refused_not_left(virtual_nodes: None, tmp_path: Path) -> None:
    """The teardown runs `docker swarm leave --force`: on a host in a swarm of its own it would
    break that swarm, so the lab refuses to start there."""
    node1 = hosts.NODES[0]
    _docker_on(node1, "swarm", "init", "--advertise-addr", node1.address)
    try:
        done = _swarm_overlay("--no-record")
        assert done.returncode == 2, done.stderr
        assert "docker-node1: this host is in a Docker Swarm already" in done.stderr
        assert _docker_on(node1, "info", "--format", "{{.Swarm.LocalNodeState}}") == "active"
    finally:
        _docker_on(node1, "swarm", "leave", "--force", check=False)
        _docker_on(node1, "network", "rm", "docker_gwbridge", check=False)


def test_a_container_left_on_the_node_is_a_leftover(virtual_nodes: None, tmp_path: Path) -> None:
    """Over SSH the leftover check reads the node's Docker from the JSON its one snapshot command
    prints (docs/state.md): a container the lab never removes is named, as on this machine."""
    node1, _ = hosts.NODES
    script = tmp_path / "leaky.sh"
    script.write_text("#@ steps\ndocker run -d --name rcp-left-remote busybox sleep 300\n")
    try:
        done = recipe("run", str(script), "--host", "docker-node1", "--no-record")
        assert done.returncode == 1, done.stderr
        assert "LEFTOVERS after the teardown: container rcp-left-remote" in done.stderr
    finally:
        _docker_on(node1, "rm", "-f", "rcp-left-remote", check=False)
