"""A wheel (`pip install .`, not only the editable install) carries every recipe."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs the packaged tool from the unpacked wheel; refuses when the checkout's package is imported.
PROBE = """
import sys
from pathlib import Path
import generator
from generator.recipes import catalog as recipes
unpacked = Path(sys.argv[1]).resolve()
assert unpacked in Path(generator.__file__).resolve().parents, generator.__file__
print(recipes.BUILTIN_DIR)
sys.argv = ["recipe", "render", "veth-pair"]
from generator.cli import main
main()
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools.command.bdist_wheel", reason="needs setuptools >= 70.1")
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the test environment's setuptools builds it, with no download.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (found,) = out.glob("recipe-*.whl")
    return found


def test_the_wheel_holds_every_file_of_every_recipe(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "generator/library/" + path.relative_to(ROOT / "recipes").as_posix()
        for path in (ROOT / "recipes").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected and expected <= names, sorted(expected - names)


def test_the_installed_wheel_finds_and_renders_its_recipes(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(unpacked)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    first, _, script = done.stdout.partition("\n")
    assert Path(first) == unpacked / "generator" / "library"
    assert "ip link add veth-test1 type veth peer name veth-test2" in script
