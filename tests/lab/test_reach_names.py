"""`recipe reach --by-name` on real containers: no name on the default bridge, a name after
`--link` (one way), names on a user-defined network through Docker's DNS; a rule that expects
otherwise is exit 1 naming that pair, a bad one exit 2."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from tests import busybox_image
from tests.cli_runner import assert_one_line_error, invoke

A, B, C = "rcp-rn-a", "rcp-rn-b", "rcp-rn-c"
NET = "rcp-rn-net"
ONLY = ("--only", "rcp-rn-*", "--by-name", "--json")
SLEEP = ["busybox", "sh", "-c", "while true; do sleep 3600; done"]
pytestmark = pytest.mark.root


def docker(*args: str) -> None:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def containers(clean_machine: None, docker_engine: None) -> Iterator[None]:
    busybox_image.ensure()
    try:
        docker("network", "create", NET)
        docker("run", "-d", "--name", A, *SLEEP)
        docker("run", "-d", "--name", B, "--link", A, *SLEEP)  # B knows A by name
        docker("run", "-d", "--name", C, "--network", NET, *SLEEP)
        yield
    finally:
        subprocess.run(["docker", "rm", "-f", A, B, C], capture_output=True, check=False)
        subprocess.run(["docker", "network", "rm", NET], capture_output=True, check=False)


def by_name(data: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    pairs = data["pairs"]
    assert isinstance(pairs, list)
    return {(p["source"], p["target"]): p for p in pairs if p["name"]}


def test_names_resolve_as_each_container_would(containers: None) -> None:
    done = invoke("reach", *ONLY)
    assert done.returncode == 0, done.stdout + done.stderr
    names = by_name(json.loads(done.stdout))
    assert set(names) == {(s, t) for s in (A, B, C) for t in (A, B, C) if s != t}
    link = names[(B, A)]
    assert link["actual"] and link["expected"] and "/etc/hosts names it" in str(link["why"])
    assert not names[(A, B)]["actual"]  # a link points one way
    assert "no user-defined network in common" in str(names[(A, B)]["why"])
    # C is alone on its network: Docker's DNS does not know A or B there
    assert not names[(C, A)]["actual"] and not names[(A, C)]["actual"]
    # joined to C's network, A and C know each other by name through Docker's DNS
    docker("network", "connect", NET, A)
    done = invoke("reach", *ONLY)
    assert done.returncode == 0, done.stdout + done.stderr
    names = by_name(json.loads(done.stdout))
    assert names[(C, A)]["actual"] and names[(A, C)]["actual"]
    assert names[(C, A)]["why"] == f"Docker's DNS knows the members of {NET}"
    assert not names[(C, B)]["actual"]


def test_a_rule_that_expects_a_name_is_exit_1_naming_that_pair(containers: None) -> None:
    done = invoke("reach", *ONLY[:3], "--rule", f"{A} -> {B} by name: yes")
    assert done.returncode == 1, done.stdout + done.stderr
    wrong = [line for line in done.stdout.splitlines() if "likely cause" in line]
    assert len(wrong) == 1 and wrong[0].startswith(f"  {A} -> {B} ({B}): expected to reach")
    assert "the name did not resolve" in wrong[0]
    # a rule by name leaves the probes by address alone
    assert invoke("reach", *ONLY, "--rule", f"{B} -> {A} by name: yes").returncode == 0


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        (f"{A} -> nobody by name: no", "unknown endpoint nobody"),
        (f"{A} -> {A} by name: no", "matches nothing"),
        (f"{A} -> {B} by nam: no", "bad reach rule"),
    ],
)
def test_bad_rules_by_name_are_one_line_and_exit_2(
    containers: None, rule: str, fragment: str
) -> None:
    assert_one_line_error(invoke("reach", *ONLY, "--rule", rule), fragment)


def test_by_name_across_hosts_is_refused_in_one_line() -> None:
    done = invoke("reach", "--by-name", "--host", "local", "--host", "docker-node1")
    assert_one_line_error(done, "--by-name probes names on one --host at a time")
