"""Find and kill the processes a step started, by walking /proc (Linux only, no extra tools)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
_TICK = 1.0 / _TICKS


def boot_clock() -> float:
    """Seconds since boot, on the clock /proc uses for process start times."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, start time in seconds since boot), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = data[data.rfind(b")") + 2 :].split()
    return int(fields[1]), int(fields[19]) / _TICKS


def last_pid() -> int:
    """The pid most recently handed out on this machine."""
    with open("/proc/sys/kernel/ns_last_pid", "rb") as handle:
        return int(handle.read())


@dataclass(frozen=True)
class Mark:
    """A moment, to tell processes started after it from older ones."""

    boot_time: float
    pid: int

    @classmethod
    def now(cls) -> Mark:
        return cls(boot_clock(), last_pid())

    def precedes(self, pid: int, started: float) -> bool:
        """Was the process (pid, start time since boot) started after this mark?

        Start times count in 10 ms clock ticks, so within one tick of the mark the pid decides:
        pids grow until they wrap around at pid_max, which a tick is far too short for.
        """
        if started >= self.boot_time + _TICK:
            return True
        return started >= self.boot_time - _TICK and pid > self.pid


def descendants(root: int, since: Mark | None = None) -> list[int]:
    """Every process below `root`; with `since`, only those started after that mark."""
    children: dict[int, list[int]] = {}
    started: dict[int, float] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        info = _stat(int(name))
        if info is not None:
            children.setdefault(info[0], []).append(int(name))
            started[int(name)] = info[1]
    found: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    if since is None:
        return found
    return [pid for pid in found if since.precedes(pid, started.get(pid, 0.0))]


def kill_all(pids: list[int]) -> None:
    """SIGKILL each process; a process that is already gone is not an error."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
