"""Checks before any step: root, the tools a recipe needs, a running Docker engine, and
`recipe doctor`, which lists them all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.lab.lab_cli import recipe


def test_preflight_errors_are_one_line_and_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    binary = tmp_path / "bin.sh"
    binary.write_bytes(b"\x7fELF\x00\x01")
    cases = [
        (["run", "no-such-recipe"], "unknown recipe 'no-such-recipe'"),
        (["run", str(binary)], "is not a text script"),
        (["run", str(tmp_path / "missing.sh")], "cannot read script"),
        (["run", "veth-pair", "--host", "no host!"], "not of the form [user@]host[:port]"),
        (["run", "veth-pair", "--set", "count=0"], "count"),
    ]
    for args, message in cases:
        done = recipe(*args, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert (
            done.stderr.count("\n") == 1
            and message in done.stderr
            and "Traceback" not in done.stderr
        )


def _recipe_needing(tmp_path: Path, tools: list[str]) -> Path:
    """A recipe directory holding `needs-tool`, one step that requires these tools."""
    lab = tmp_path / "recipes" / "needs-tool"
    lab.mkdir(parents=True)
    requires = ", ".join(f'"{tool}"' for tool in tools)
    (lab / "recipe.toml").write_text(
        f'title = "t"\nsummary = "s"\ndescription = "d"\nrequires = [{requires}]\n'
    )
    (lab / "lab.sh.j2").write_text(
        '{% extends "base.sh.j2" %}{% block steps %}true\n{% endblock %}'
    )
    return lab.parent


def test_preflight_missing_tool_and_stopped_engine(tmp_path: Path, env: dict[str, str]) -> None:
    recipes = _recipe_needing(tmp_path, ["ip", "no-such-tool-rcp"])
    done = recipe("--recipes", str(recipes), "run", "needs-tool", env=env)
    assert (
        done.returncode == 2
        and done.stderr == "recipe: preflight: missing tool 'no-such-tool-rcp'\n"
    )
    stopped = {**env, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    done = recipe("run", "container-link", env=stopped)
    assert done.returncode == 2 and "Docker engine is not running" in done.stderr
    assert done.stderr.count("\n") == 1


def test_not_root_is_a_preflight_error() -> None:
    """A forked child really drops to nobody and runs the run's preflight. (A fresh `recipe`
    process as nobody would not start: the Python installation is under root's home.) The CLI
    turns the UserError into the one line and exit 2, as the other preflight tests show."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to nobody")
    from generator.errors import UserError
    from generator.lab import preflight

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and its exit status
        code = 99
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            preflight.enforce(preflight.for_run(["ip"], docker=False))
            code = 0
        except UserError as error:
            os.write(write_end, f"{error.message}|{error.exit_code}".encode())
            code = 2
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as stream:
        message = stream.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2
    assert (
        message
        == "preflight: labs change the machine's network: run as root (sudo recipe run ...)|2"
    )


def test_doctor_lists_every_finding(env: dict[str, str]) -> None:
    done = recipe("doctor", env=env)
    lines = done.stdout.splitlines()
    assert any(line.startswith("ok: ip found") for line in lines)
    assert any("FORWARD policy" in line for line in lines)
    # 2 on errors, as a run's failed preflight exits (docs/recipe-run.md).
    assert done.returncode == (2 if any(line.startswith("error:") for line in lines) else 0)


def test_doctor_exits_2_on_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    """A recipe needing a tool this machine lacks makes a sure error."""
    recipes = _recipe_needing(tmp_path, ["no-such-tool-rcp"])
    done = recipe("--recipes", str(recipes), "doctor", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert any("no-such-tool-rcp" in line for line in done.stdout.splitlines())


def _engine_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if "Docker engine" in line or "Docker SDK" in line]


@pytest.mark.skipif(
    shutil.which("docker") is None, reason="doctor checks the engine only with docker"
)
def test_doctor_says_in_one_line_that_the_engine_is_down(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """The SDK finds no socket there: one error line with the address and the fix."""
    where = f"unix://{tmp_path}/no-engine.sock"
    done = recipe("doctor", env={**env, "DOCKER_HOST": where})
    (line,) = _engine_lines(done.stdout)
    assert line.startswith(f"error: the Docker engine is not running at {where} (")
    assert line.endswith("; start it with scripts/start-docker.sh (or systemctl start docker)")
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr


@pytest.mark.skipif(
    shutil.which("docker") is None, reason="doctor checks the engine only with docker"
)
def test_doctor_says_in_one_line_that_the_sdk_is_missing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A `docker` package that fails to import stands in for an installation without the SDK."""
    shadow = tmp_path / "no-sdk" / "docker"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no Docker SDK here')\n")
    path = os.pathsep.join(p for p in (str(shadow.parent), env.get("PYTHONPATH")) if p)
    done = recipe("doctor", env={**env, "PYTHONPATH": path})
    assert _engine_lines(done.stdout) == [
        "error: the Docker SDK (python package docker) is not installed; "
        "reinstall recipe, or pip install docker"
    ]
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr


@pytest.mark.docker
def test_the_image_check_sees_a_present_and_an_absent_image(
    docker_engine: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from generator.lab import preflight
    from tests import busybox_image

    busybox_image.ensure()
    assert preflight.check_image("busybox") == preflight.Finding("ok", "busybox image present")
    absent = f"recipe-test-absent-{os.getpid()}"
    assert preflight.check_image(absent) == preflight.Finding(
        "warning", f"no {absent} image; build it offline: recipe image build {absent}"
    )
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    found = preflight.check_image("busybox")
    assert found.level == "warning" and "the Docker engine is not running at" in found.message
