"""Shared fixtures. Tests that touch the machine hold one lock, so parallel sessions don't collide,
and the session fails loudly when anything is left behind."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.lab import leftovers

ROOT = Path(__file__).resolve().parent.parent
LOCK = Path("/run/recipe-tests.lock")


def _is_root() -> bool:
    return os.geteuid() == 0


def docker_ready() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="session")
def machine() -> Iterator[None]:
    """Exclusive use of the machine's network state, and a check that the tests leave it clean."""
    if not _is_root():
        pytest.skip("needs root")
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        before = leftovers.take_local()
        yield
        left = leftovers.take_local().added_since(before)
        assert not left, f"tests left these behind: {leftovers.describe(left)}"


@pytest.fixture
def clean_machine(machine: None) -> Iterator[None]:
    """Per-test: fail the test that leaves something behind, and name what it left."""
    before = leftovers.take_local()
    yield
    left = leftovers.take_local().added_since(before)
    assert not left, f"this test left behind: {leftovers.describe(left)}"


@pytest.fixture(scope="session")
def docker_engine(machine: None) -> None:
    if not docker_ready():
        pytest.skip("needs a running Docker engine (scripts/start-docker.sh)")


@pytest.fixture(scope="session")
def _virtual_nodes_session(machine: None) -> Iterator[None]:
    """Takes the virtual Docker nodes down at the end of the session, before the leftover check."""
    from generator.hosts import nodes as hosts

    if hosts.missing_tools():
        pytest.skip(f"virtual nodes need {', '.join(hosts.missing_tools())}")
    yield
    problems = hosts.down()
    assert not problems, f"hosts down: {problems}"


@pytest.fixture
def virtual_nodes(_virtual_nodes_session: None) -> None:
    """docker-node1/2 running: made on first use, remade if a test took them down (see issue 4)."""
    from generator.hosts import nodes as hosts

    hosts.up()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Under scripts/test.sh (RECIPE_REQUIRE_TOOLS=1) a skip is a failure: that command installs
    every tool the suite uses, so a skip there means a missing install step, not a choice."""
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("RECIPE_REQUIRE_TOOLS") == "1"
        and report.skipped
        and not hasattr(report, "wasxfail")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under scripts/test.sh, which must install everything: {reason}"


@pytest.fixture(scope="session")
def stack_root() -> Callable[[str], Path]:
    """A stack's root, built in the shared cache ($RECIPE_STACK_CACHE, else
    /var/cache/recipe/stacks) by the first test that needs it (about 30 s) and reused after, in
    this session and the next ones; stack_root("debian-13") -> its root."""
    from generator.hosts import stack_root as roots
    from generator.hosts import stacks

    if not _is_root():
        pytest.skip("building a stack root needs root")
    if shutil.which("mmdebstrap") is None:
        pytest.skip("needs mmdebstrap (bash scripts/install.sh installs it)")

    def ensure(name: str) -> Path:
        return roots.ensure_root(stacks.get(name), lambda line: None)

    return ensure
