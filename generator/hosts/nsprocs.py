"""Find and end the processes that keep a virtual node alive.

A network namespace lives as long as any process sits in it, and with it its veth end; so a node's
teardown must find every such process, however it got there (sshd sessions, dockerd, containerd
shims, containers). Processes are matched by the namespaces they are in and by the cgroup the
node's Docker engine puts its containers under.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def ns_id(path: Path | str) -> str | None:
    """The identity of a namespace, such as 'net:[4026532301]', or None when it is gone."""
    try:
        return os.readlink(path)
    except OSError:
        pass
    try:  # a bind-mounted namespace file (/run/netns/NAME) is no symlink: compare inodes
        return f"ino:{os.stat(path).st_ino}"
    except OSError:
        return None


def _netns_inode(pid: str) -> str | None:
    try:
        return f"ino:{os.stat(PROC / pid / 'ns' / 'net').st_ino}"
    except OSError:
        return None


def pids_matching(netns_file: Path | None = None, cgroup_part: str | None = None) -> set[int]:
    """Processes in the given network namespace, or in a cgroup whose path holds cgroup_part."""
    wanted_net = ns_id(netns_file) if netns_file is not None else None
    me = os.getpid()
    found: set[int] = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        if wanted_net is not None and _netns_inode(entry.name) == wanted_net:
            found.add(int(entry.name))
            continue
        if cgroup_part is not None and _in_cgroup(entry, cgroup_part):
            found.add(int(entry.name))
    return found


def pids_in_pidns(pidns: str) -> set[int]:
    """Processes whose pid namespace is pidns ('pid:[4026532301]')."""
    found = set()
    for entry in PROC.iterdir():
        if entry.name.isdigit() and ns_id(entry / "ns" / "pid") == pidns:
            found.add(int(entry.name))
    return found


def _in_cgroup(entry: Path, part: str) -> bool:
    try:
        text = (entry / "cgroup").read_text()
    except OSError:
        return False
    return any(part in line.split(":", 2)[-1] for line in text.splitlines())


def alive(pid: int) -> bool:
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie holds no namespace any more


def wait_gone(pids: Iterable[int], seconds: float) -> set[int]:
    """Wait until the processes are gone; return the ones still alive at the deadline."""
    left = set(pids)
    deadline = time.monotonic() + seconds
    while left and time.monotonic() < deadline:
        left = {pid for pid in left if alive(pid)}
        if left:
            time.sleep(0.05)
    return {pid for pid in left if alive(pid)}


def signal_all(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def terminate(pids: Iterable[int], grace: float = 2.0) -> set[int]:
    """SIGTERM, then SIGKILL after grace seconds; return what survived even that (normally none)."""
    left = set(pids)
    signal_all(left, signal.SIGTERM)
    left = wait_gone(left, grace)
    signal_all(left, signal.SIGKILL)
    return wait_gone(left, 2.0)
