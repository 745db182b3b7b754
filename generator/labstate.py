"""What `recipe clean` needs to remove a lab that a run kept (--keep) or never finished (a crash,
a kill -9): the script that built it, saved while the lab stands, removed after its teardown."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

STATE_ENV = "RECIPE_STATE_DIR"
DEFAULT_DIR = Path("/run/recipe/labs")  # /run: a reboot removes the labs, and this record too
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def state_dir() -> Path:
    return Path(os.environ.get(STATE_ENV) or DEFAULT_DIR)


@dataclass(frozen=True)
class LabState:
    name: str  # the recipe, or `script-<hash prefix>` for a script without `#@ recipe`
    script: str  # the script text that ran, so clean tears down exactly what was built
    params: dict[str, str]
    host: str
    kept: bool


def lab_name(recipe: str | None, sha256: str) -> str:
    return _SAFE.sub("_", recipe) if recipe else f"script-{sha256[:12]}"


def _path(name: str) -> Path:
    return state_dir() / f"{_SAFE.sub('_', name)}.json"


def save(state: LabState) -> None:
    """Write atomically: a crash mid-write must not leave an unreadable record."""
    path = _path(state.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state.__dict__, indent=1, sort_keys=True))
    os.replace(temporary, path)


def load(name: str) -> LabState | None:
    try:
        data = json.loads(_path(name).read_text())
        return LabState(**data)
    except (OSError, ValueError, TypeError):
        return None


def forget(name: str) -> None:
    try:
        _path(name).unlink()
    except FileNotFoundError:
        pass


def standing() -> list[str]:
    """Names of labs with a saved state: kept, or interrupted by a crash."""
    if not state_dir().is_dir():
        return []
    return sorted(p.stem for p in state_dir().glob("*.json"))
