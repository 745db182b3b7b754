"""Benchmark: the state snapshot (generator/lab/observe.py) of a host with 100 namespaces.

Makes N namespaces `rcp-bench-I`, each holding one end of a veth pair whose other end is on the
host, takes the snapshot five times and prints the median against the budget of issue 12 (1 s
for 100 namespaces). For a ratio measured in the same run, the baseline is the least any
per-namespace reading costs: a bare `ip -j link` in each namespace, one process each. Everything
is removed at the end, also after an error. Needs root; hold the tests' lock while it runs:

    flock /run/recipe-tests.lock python bench/snapshot.py [--n 100] [--containers 0]

--containers K also starts K busybox containers on the default bridge, for the budget of 150 ms
for a host with 10 containers (the Docker engine and the busybox image must be there).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.lab import observe
from generator.shell.local import LocalShell

PREFIX = "rcp-bench-"
ROUNDS = 5


def _bash(script: str) -> None:
    subprocess.run(["bash", "-c", script], check=False, capture_output=True)


def _setup(n: int, containers: int) -> None:
    lines = [
        f"ip netns add {PREFIX}{i} && ip link add {PREFIX}h{i} type veth peer name eth0 "
        f"netns {PREFIX}{i}"
        for i in range(n)
    ]
    lines += [f"docker run -d --name {PREFIX}c{i} busybox sleep 600" for i in range(containers)]
    _bash("\n".join(lines))


def _teardown(n: int, containers: int) -> None:
    names = " ".join(f"{PREFIX}c{i}" for i in range(containers))
    _bash(
        (f"docker rm -f {names}\n" if containers else "")
        + "\n".join(f"ip netns del {PREFIX}{i}" for i in range(n))
    )


def _median(action: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _baseline(shell: LocalShell, n: int, containers: int) -> None:
    """A bare `ip -j link` per namespace, and with containers the CLI's `docker inspect`."""
    loop = f"for i in $(seq 1 {n}); do ip -n {PREFIX}$((i - 1)) -j link >/dev/null; done"
    inspect = "docker inspect $(docker ps -aq) >/dev/null" if containers else ""
    shell.run(f"ip -j link >/dev/null; {loop}; {inspect}", timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--containers", type=int, default=0)
    args = parser.parse_args()
    budget = 0.15 if args.containers and args.n == 0 else 1.0
    try:
        _setup(args.n, args.containers)
        with LocalShell() as shell:
            start = time.perf_counter()
            observe.take(shell)  # the first one imports the Docker SDK: timed apart
            first = time.perf_counter() - start
            snap = observe.take(shell)
            namespaces = sum(ns.kind == "netns" for ns in snap.namespaces)
            peered = sum(1 for ns in snap.namespaces for link in ns.links if link.peer is not None)
            took = _median(lambda: observe.take(shell))
            base = _median(lambda: _baseline(shell, args.n, args.containers))
    finally:
        _teardown(args.n, args.containers)
    print(
        f"snapshot of {namespaces} namespaces, {len(snap.containers)} containers "
        f"({peered} veth ends resolved): median {took * 1000:.0f} ms of {ROUNDS}, "
        f"budget {budget * 1000:.0f} ms ({took / budget:.2f}x of it); "
        f"baseline (bare `ip -j link` per namespace, `docker inspect` of the containers) "
        f"{base * 1000:.0f} ms ({took / base:.2f}x of that); the first snapshot, which imports "
        f"the Docker SDK, {first * 1000:.0f} ms"
    )
    if snap.is_partial:
        print(f"partial: {'; '.join(snap.partial)}")


if __name__ == "__main__":
    main()
