"""Small helpers for making namespaces and daemons: commands checked or quiet, namespaces kept by
bind mounts, pid files, waiting."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from generator.errors import UserError
from generator.hosts import nsprocs


def run_checked(argv: list[str], what: str, input_: bytes | None = None) -> str:
    done = subprocess.run(argv, input=input_, capture_output=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(f"{what} failed: {detail[-1] if detail else f'exit {done.returncode}'}")
    return done.stdout.decode(errors="replace")


def quiet(argv: list[str]) -> bool:
    """Run a cleanup command whose failure only means 'already gone'."""
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def in_netns(path: Path) -> list[str]:
    return ["nsenter", f"--net={path}", "--"]


def make_netns(path: Path, what: str) -> None:
    """A new network namespace, kept by a bind mount on path (as `ip netns add` does in
    /run/netns)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    run_checked(["unshare", f"--net={path}", "true"], f"creating the namespace of {what}")


def remove_netns(path: Path) -> bool:
    """Unmount and remove a namespace made by make_netns; False when it stays mounted."""
    if not path.exists():
        return True
    quiet(["umount", str(path)])
    try:
        path.unlink()
    except OSError:
        return False
    return True


def read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if nsprocs.alive(pid) else None


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise UserError(f"{what} did not come up within {seconds:g} s")
