"""A wheel (`pip install .`, not only the editable install) carries every recipe and every file
of the package, declares its license and project metadata, builds without a warning, and,
installed into a fresh environment outside any checkout, runs every command that needs none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.json_schema import problems, schema

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
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel, and what building it printed."""
    pytest.importorskip("setuptools.command.bdist_wheel", reason="needs setuptools >= 70.1")
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the test environment's setuptools builds it, with no download.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (found,) = out.glob("recipe-*.whl")
    return found, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(built: tuple[Path, str]) -> Path:
    return built[0]


def test_building_warns_of_nothing(built: tuple[Path, str]) -> None:
    _, log = built
    warned = [
        line
        for line in log.splitlines()
        if "deprecat" in line.lower() or "SetuptoolsWarning" in line or "_Warning:" in line
    ]
    assert not warned, "\n".join(warned)


def test_the_wheel_holds_every_file_of_every_recipe(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "generator/library/" + path.relative_to(ROOT / "recipes").as_posix()
        for path in (ROOT / "recipes").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected and expected <= names, sorted(expected - names)


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    """A new room (generator/tutorial was once left out) or data folder cannot go missing."""
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "generator").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert expected - names == set()


def test_the_metadata_names_license_urls_and_classifiers(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    meta = Parser().parsestr(archive.read("recipe-0.1.0.dist-info/METADATA").decode())
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"
    assert "MIT License" in archive.read("recipe-0.1.0.dist-info/licenses/LICENSE").decode()
    assert not [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    assert "Topic :: System :: Networking" in (meta.get_all("Classifier") or [])
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)
    assert "docker" in meta["Keywords"].split(",")


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


# ------------------------------------------------------------ a fresh environment


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install recipe-*.whl` into a new venv; its dependencies come from this environment's
    site-packages (a path in a .pth: its own .pth files, the checkout's editable finder among
    them, are not run), so nothing is downloaded. Returns the venv's bin/recipe."""
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "deps-of-the-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin" / "recipe"


def _run(recipe: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RECIPE_PATH", "PYTHONPATH")}
    return subprocess.run(
        [str(recipe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_it_runs_from_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    python = installed.parent / "python"
    done = subprocess.run(
        [python, "-c", "import generator; print(generator.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "site-packages" in done.stdout and str(ROOT) not in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (("--version",), 0, "recipe 0.1.0"),
        (("-h",), 0, "Usage: recipe"),
        (("list",), 0, "veth-pair"),
        (("show", "veth-pair"), 0, "Parameters:"),
        (("render", "veth-pair"), 0, "ip link add veth-test1 type veth peer name veth-test2"),
        (("completion", "bash"), 0, "_RECIPE_COMPLETE=complete_bash"),
        (("render", "veth-pai"), 2, "did you mean 'veth-pair'?"),
    ],
)
def test_every_cheap_path_works_outside_a_checkout(
    installed: Path, tmp_path: Path, args: tuple[str, ...], code: int, shown: str
) -> None:
    done = _run(installed, *args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert shown in done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "site-packages" not in done.stderr


@pytest.mark.parametrize(
    ("args", "name", "codes"),
    [
        (("list", "--json"), "list", (0,)),
        (("show", "custom-bridge", "--json"), "show", (0,)),
        (("doctor", "--json"), "doctor", (0, 2)),
        (("hosts", "status", "--json"), "hosts-status", (0, 1)),
    ],
)
def test_json_outside_a_checkout(
    installed: Path, tmp_path: Path, args: tuple[str, ...], name: str, codes: tuple[int, ...]
) -> None:
    done = _run(installed, *args, cwd=tmp_path)
    assert done.returncode in codes, done.stderr
    assert problems(json.loads(done.stdout), schema(name)) == []


@pytest.mark.parametrize(
    "args",
    [
        ("replay", "no-such.transcript"),
        ("diff", "a.transcript", "b.transcript"),
        ("export", "no-such.transcript"),
        ("docs", "no-such.transcript"),
        ("state", "no-such.transcript"),
        ("run", "no-such-lab"),
        ("clean", "no-such-lab"),
    ],
)
def test_a_bad_argument_outside_a_checkout_is_one_line(
    installed: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    done = _run(installed, *args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("recipe: "), done.stderr
    assert "site-packages" not in done.stderr
