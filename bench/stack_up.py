"""`recipe hosts up --stack debian-13` with the root cached, against the same node on this
machine's own userland (`--stack debian-12`: the same namespaces, daemons and image, no overlay
and no pivot), measured in the same run.

    python bench/stack_up.py [--runs 5]

Needs root; builds the Debian 13 root first if it is not cached (not timed). Each run makes one
node with the CLI, as a user would, and takes it down again (not timed). Prints the medians, the
ratio, and the target of 5 s for a warm `hosts up --stack`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.hosts import stack_root, stacks

TARGET = 5.0  # seconds, warm
CLI = [sys.executable, "-c", "from generator.cli import main; main()"]


def _up_seconds(stack: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*CLI, "hosts", "up", "--stack", stack, "--nodes", "1"], check=True, capture_output=True
    )
    took = time.perf_counter() - start
    subprocess.run([*CLI, "hosts", "down"], check=True, capture_output=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    stack_root.ensure_root(stacks.get("debian-13"), lambda line: print(f"  {line}", flush=True))
    subprocess.run([*CLI, "hosts", "down"], check=True, capture_output=True)
    times: dict[str, list[float]] = {"debian-12": [], "debian-13": []}
    for _ in range(runs):  # interleaved, so that the machine's load falls on both alike
        for stack, seen in times.items():
            seen.append(_up_seconds(stack))
    base = statistics.median(times["debian-12"])
    warm = statistics.median(times["debian-13"])
    print(f"hosts up --stack debian-12 (this machine's userland): {base:.2f} s (median of {runs})")
    print(f"hosts up --stack debian-13 (cached root, overlay, pivot): {warm:.2f} s")
    print(
        f"ratio: {warm / base:.2f}x; target: at most {TARGET:g} s warm: "
        f"{'met' if warm <= TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
