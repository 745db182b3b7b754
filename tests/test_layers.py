"""Imports run one way: CLI -> lab -> shell, recipes and transcript; compare and pages ->
transcript; nothing imports the CLI; shell knows nothing of lab, recipes or transcript.

Each room is imported whole in a fresh interpreter, and sys.modules shows what it pulled in, lazy
imports at module level included. An import inside a function is not seen here; the grep test
below catches those that name a forbidden room.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generator"
CLI = ("generator.cli", "generator.commands")
# Room -> the rooms it must never load.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "shell": ("lab", "recipes", "transcript", "compare", "pages", *CLI),
    "transcript": ("lab", "shell", "recipes", "compare", "pages", "hosts", "tutorial", *CLI),
    "recipes": ("lab", "shell", "transcript", "compare", "pages", "hosts", *CLI),
    "compare": ("lab", "shell", "pages", "hosts", *CLI),
    "pages": ("lab", "shell", "hosts", "tutorial", *CLI),
    "hosts": ("lab", "shell", "recipes", "transcript", "compare", "pages", *CLI),
    "lab": ("pages", *CLI),
    "tutorial": ("lab", "shell", "recipes", "transcript", "compare", "pages", "hosts", *CLI),
}


def _modules(room: str) -> list[str]:
    folder = PACKAGE / room
    names = [
        f"generator.{room}.{p.stem}" for p in sorted(folder.glob("*.py")) if p.stem != "__init__"
    ]
    return [f"generator.{room}", *names]


def _loaded_by(modules: list[str]) -> set[str]:
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(done.stdout))


def _full(room: str) -> str:
    return room if room.startswith("generator.") else f"generator.{room}"


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_loads_nothing_it_must_not(room: str) -> None:
    loaded = _loaded_by(_modules(room))
    wrong = sorted(
        name
        for name in loaded
        for other in map(_full, FORBIDDEN[room])
        if name == other or name.startswith(other + ".")
    )
    assert not wrong, f"importing generator.{room} loads {wrong}"


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_no_import_anywhere_in_a_room_names_a_forbidden_room(room: str) -> None:
    """Imports inside functions too: they run later, but they still point the wrong way."""
    found = []
    for path in sorted((PACKAGE / room).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                for other in map(_full, FORBIDDEN[room]):
                    if name == other or name.startswith(other + "."):
                        found.append(
                            f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {name}"
                        )
    assert not found, found


def test_every_module_belongs_to_a_room() -> None:
    """The top level holds only the CLI entry, the version and three leaf helpers."""
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == ["__init__", "atomicfile", "cli", "errors", "visible"]
    rooms = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert rooms == sorted([*FORBIDDEN, "commands"])


def test_rendering_loads_no_transport_or_terminal_library() -> None:
    probe = (
        "import json, sys\n"
        "from generator.recipes import catalog, render\n"
        "recipe = catalog.load('custom-bridge')\n"
        "render.render_script(recipe, catalog.resolve(recipe, {}))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    heavy = {"paramiko", "pexpect", "docker", "rich"} & {
        name.split(".")[0] for name in json.loads(done.stdout)
    }
    assert not heavy, heavy


def test_the_docker_sdk_is_imported_only_when_docker_is_read() -> None:
    """The rooms that read Docker (lab, hosts) import the SDK inside functions, so loading them
    whole, as every `recipe` command does, costs none of its 0.2-0.5 s."""
    loaded = _loaded_by([*_modules("lab"), *_modules("hosts")])
    assert not {name for name in loaded if name.split(".")[0] in ("docker", "requests")}
