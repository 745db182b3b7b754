"""Every built-in recipe runs green through `recipe run`, writes a transcript that reads back
whole, and leaves nothing behind (the issue's CI criterion)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from generator import transcript as tr
from generator.recipes import catalog as recipes
from tests import busybox_image
from tests.conftest import docker_ready

SINGLE_HOST = sorted(r.name for r in recipes.load_all() if not r.hosts)
DOCKER = {r.name for r in recipes.load_all() if r.docker}


@pytest.mark.parametrize("name", SINGLE_HOST)
def test_recipe_runs_green_with_a_transcript(
    name: str, machine: None, clean_machine: None, tmp_path: Path
) -> None:
    if name in DOCKER:
        if not docker_ready():
            pytest.skip("needs a running Docker engine (scripts/start-docker.sh)")
        busybox_image.ensure()
    path = tmp_path / f"{name}.transcript"
    done = subprocess.run(
        ["recipe", "run", name, "--record", str(path), "--json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["leftovers"] == [] and summary["complete"]
    read = tr.read(path)
    assert read.status == "passed" and read.complete and not read.truncated
    assert read.header.recipe == name and len(read.main_steps) == summary["steps"]
    assert all(step.passed for step in read.steps)
