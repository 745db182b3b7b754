"""`recipe reach --raise-neigh-limit`: the kernel's neighbour table made big enough for every
pair while the prober runs, and put back as it was afterwards.

The kernel keeps ONE IPv4 neighbour (ARP) table for all namespaces together. It is limited by
net.ipv4.neigh.default.gc_thresh1/2/3 (128/512/1024 by default), and an entry younger than 5 s
is never reclaimed. Every ordered pair needs an entry: the source's for the target, or the
target's for the source when it answers. So the 9,900 pairs of 100 namespaces overflow the table
and most probes drop. Everything here goes through the host's Shell, so it works locally and
over SSH alike.
"""

from __future__ import annotations

import fnmatch
import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from generator.errors import UserError
from generator.lab import reach
from generator.shell.base import Result, Shell
from generator.transcript.state import Snapshot

DIR = "/proc/sys/net/ipv4/neigh/default"
NAMES = ("gc_thresh1", "gc_thresh2", "gc_thresh3")
STATS = "/proc/net/stat/arp_cache"
# gc_thresh1: below it nothing is reclaimed; gc_thresh2: the soft limit; gc_thresh3: the hard
# one. Room for twice, then four times, what the probe needs, as Mininet's own limits allow.
SOFT, HARD = 2, 4
TIMEOUT = 30.0
# Raising, the hard limit first and gc_thresh1 last, so that 1 <= 2 <= 3 holds throughout.
RAISING, LOWERING = (2, 1, 0), (0, 1, 2)

Limits = tuple[int, int, int]


def pairs(snapshot: Snapshot, with_host: bool, only: Sequence[str]) -> int:
    """The ordered pairs (by address) that `recipe reach` probes: one neighbour entry each."""
    found = reach.endpoints(snapshot, with_host)
    if only:
        found = [e for e in found if any(fnmatch.fnmatchcase(e.name, p) for p in only)]
    return sum(len(t.addresses) for s in found for t in found if t is not s)


@contextmanager
def raised(shell: Shell, entries: int, host: str = "local") -> Iterator[Limits]:
    """Raise the thresholds to fit `entries` more neighbours for the body, restore them after
    (also on error); yields the limits in force. Never lowers one. UserError (exit 2) when
    they cannot be read or set, e.g. without root."""
    before = read(shell, host)
    goal = wanted(before, entries + _in_use(shell))
    if goal == before:
        yield before
        return
    done = _write(shell, goal, RAISING)
    if not done:
        _write(shell, before, LOWERING)  # what a partial write changed
        raise UserError(f"--raise-neigh-limit: cannot set {_text(goal)} on {host}: {_why(done)}")
    try:
        yield goal
    finally:
        done = _write(shell, before, LOWERING)
        if not done:
            raise UserError(
                f"--raise-neigh-limit: cannot restore {_text(before)} on {host} "
                f"(set them back by hand with sysctl -w): {_why(done)}"
            )


def wanted(before: Limits, entries: int) -> Limits:
    """The thresholds that hold `entries` neighbours: each the larger of what it is and what
    the table needs."""
    need = (entries, entries * SOFT, entries * HARD)
    return (max(before[0], need[0]), max(before[1], need[1]), max(before[2], need[2]))


def read(shell: Shell, host: str) -> Limits:
    """The three thresholds now, or one line of why not."""
    done = shell.run("cat " + " ".join(f"{DIR}/{name}" for name in NAMES), TIMEOUT)
    words = done.stdout.split()
    if not done or len(words) != 3 or not all(w.isdigit() for w in words):
        raise UserError(
            f"--raise-neigh-limit: cannot read {DIR}/gc_thresh1-3 on {host}: {_why(done)}"
        )
    return (int(words[0]), int(words[1]), int(words[2]))


def _in_use(shell: Shell) -> int:
    """Entries the table holds already, for every namespace (its `entries` column, in hex)."""
    rows = shell.run(f"cat {STATS}", TIMEOUT).stdout.splitlines()
    try:
        return int(rows[1].split()[0], 16) if rows[0].startswith("entries") else 0
    except (IndexError, ValueError):
        return 0


def _write(shell: Shell, limits: Limits, order: Sequence[int]) -> Result:
    """Set the thresholds in `order`, as root, else with `sudo -n` (as the prober runs)."""
    script = shlex.quote(" && ".join(f"echo {limits[i]} > {DIR}/{NAMES[i]}" for i in order))
    as_root = f'if [ "$(id -u)" = 0 ]; then bash -c {script}; '
    return shell.run(f"{as_root}else sudo -n bash -c {script} </dev/null; fi", TIMEOUT)


def _text(limits: Limits) -> str:
    return ", ".join(f"net.ipv4.neigh.default.{n}={v}" for n, v in zip(NAMES, limits, strict=True))


def _why(done: Result) -> str:
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    said = lines[-1] if lines else f"exit status {done.exit}"
    if "Permission denied" in said or "sudo" in said:
        return f"{said} (it needs root, or sudo without a password)"
    return said
