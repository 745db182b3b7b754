"""What `recipe clean` needs to remove a lab that a run kept (--keep) or never finished (a crash,
a kill -9): the script that built it, saved while the lab stands, removed after its teardown.

One record per run, `NAME@RUN.json`, created exclusively: two runs of one recipe (on two hosts,
say) never overwrite each other's record, and each run forgets only its own. `recipe clean NAME`
takes the newest record of NAME; the others stay for the next `recipe clean NAME`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from generator import atomicfile

STATE_ENV = "RECIPE_STATE_DIR"
DEFAULT_DIR = Path("/run/recipe/labs")  # /run: a reboot removes the labs, and this record too
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_RUN = "@"  # never in a sanitized name, so `NAME@RUN` splits back without doubt


def records_dir() -> Path:
    """Where the lab records live: $RECIPE_STATE_DIR, else /run/recipe/labs."""
    return Path(os.environ.get(STATE_ENV) or DEFAULT_DIR)


@dataclass(frozen=True)
class LabState:
    name: str  # the recipe, or `script-<hash prefix>` for a script without `#@ recipe`
    script: str  # the script text that ran, so clean tears down exactly what was built
    params: dict[str, str]
    host: str
    kept: bool
    run: str = ""  # this record's run id, set by save() and load(); "" for a record of old


def lab_name(recipe: str | None, sha256: str) -> str:
    return _SAFE.sub("_", recipe) if recipe else f"script-{sha256[:12]}"


def _run_id() -> str:
    """Sortable by start time (newest last), unique by process and a random part."""
    return f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(3)}"


def _path(name: str, run: str) -> Path:
    stem = _SAFE.sub("_", name)
    return records_dir() / (f"{stem}{_RUN}{run}.json" if run else f"{stem}.json")


def save(state: LabState) -> LabState:
    """Write a new record for this run, atomically and never over another; the state with its
    run id, which forget() takes."""
    records_dir().mkdir(parents=True, exist_ok=True)
    fields = {k: v for k, v in asdict(state).items() if k != "run"}
    data = json.dumps(fields, indent=1, sort_keys=True).encode()
    while True:
        saved = replace(state, run=_run_id())
        try:
            atomicfile.write_bytes(_path(state.name, saved.run), data, replace=False)
            return saved
        except FileExistsError:
            continue  # the same nanosecond, process and random part: draw again


def _records(name: str) -> list[tuple[str, Path]]:
    """(run id, file) of every record of NAME, oldest first; a record of old has run id ""."""
    folder = records_dir()
    stem = _SAFE.sub("_", name)
    found = [("", folder / f"{stem}.json")] if (folder / f"{stem}.json").is_file() else []
    prefix = stem + _RUN
    runs = sorted(
        p.name[len(prefix) : -len(".json")]
        for p in folder.glob(f"{stem}{_RUN}*.json")
        if p.name.startswith(prefix)
    )
    return found + [(run, _path(name, run)) for run in runs]


def load(name: str) -> LabState | None:
    """The newest readable record of NAME."""
    for run, path in reversed(_records(name)):
        try:
            data = json.loads(path.read_text())
            data.pop("run", None)
            return LabState(**data, run=run)
        except (OSError, ValueError, TypeError):
            continue
    return None


def count(name: str) -> int:
    return len(_records(name))


def forget(name: str, run: str | None = None) -> None:
    """Remove the record of one run of NAME, or with run=None the record a clean without any
    saved state stands for: every record of NAME (its teardown just ran)."""
    paths = [_path(name, run)] if run is not None else [p for _, p in _records(name)]
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def standing() -> list[str]:
    """Names of labs with a saved state: kept, or interrupted by a crash."""
    if not records_dir().is_dir():
        return []
    return sorted({p.stem.partition(_RUN)[0] for p in records_dir().glob("*.json")})
