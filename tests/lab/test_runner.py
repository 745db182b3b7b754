"""Pure parts of the runner: verdicts, and which labs need the docker part of the leftover check."""

from __future__ import annotations

import pytest

from generator.lab import script
from generator.lab.verdict import judge, uses_docker
from generator.shell.base import Result


@pytest.mark.parametrize(
    ("command", "calls_docker"),
    [
        ("docker run -d --name a busybox", True),
        ("sudo docker network create n", True),
        ("ip=$(docker inspect -f x a)", True),
        ("echo go; docker ps", True),
        ("ip link add docker0 type bridge", False),
        ("iptables -I DOCKER-USER -i br0 -o br0 -j ACCEPT", False),
        ("echo dockerd is not called here", False),
    ],
)
def test_uses_docker(command: str, calls_docker: bool) -> None:
    assert uses_docker(script.parse(f"#@ steps\n{command}\n")) is calls_docker


def test_an_interactive_docker_session_counts() -> None:
    text = "#@ steps\n#@ interactive docker exec -it a /bin/sh\nsh <<'EOF'\nls\nEOF\n"
    assert uses_docker(script.parse(text))


def _step(directives: str) -> script.Step:
    return script.parse(f"#@ steps\n{directives}\nping -c 1 x\n").steps[0]


@pytest.mark.parametrize(
    ("directives", "exit_status", "stdout", "timed_out", "verdict"),
    [
        ("", 0, "", False, "ok"),
        ("", 1, "", False, "FAIL"),
        ("#@ expect-fail", 1, "bad address", False, "expected-failure"),
        ("#@ expect-fail", 0, "", False, "FAIL"),
        ("#@ expect-any", 2, "", False, "ok"),
        ('#@ expect-output " 0% packet loss"', 0, "100% packet loss", False, "FAIL"),
        ("", 124, "", True, "FAIL"),
    ],
)
def test_verdicts(
    directives: str, exit_status: int, stdout: str, timed_out: bool, verdict: str
) -> None:
    step = _step(directives)
    record = judge(step, Result(step.command, stdout, "", exit_status, 0.1, timed_out), 5)
    assert record.verdict == verdict
    assert record.passed is (verdict != "FAIL")
    if timed_out:
        assert record.problems[0] == "timed out after 5 s"
