"""Replaying every single-host golden on two stacks at once against replaying them once, serially,
on one stack, in the same benchmark run.

    flock /run/recipe-tests.lock python bench/stack_replay.py [--jobs 4 6] [--rounds 1]

The baseline is `recipe replay GOLDENS --stack debian-12 -j 1`: each golden in turn on one
debian-12 node. Then `recipe replay GOLDENS --stack debian-12 --stack debian-13 -j N` for each
N: twice the labs, N at once over ceil(N/2) nodes per stack. Each command makes the nodes it
needs and takes them down after, so both sides pay for their nodes; the debian-13 root is built
before the first round (cached after that), so no side pays for it. Target (issue 16): the two
stacks take at most 1.3x the baseline.

A drift does not stop the benchmark (a lab may read differently on debian-13); a failed cell
does. Hold /run/recipe-tests.lock like the tests (take it with flock): the labs run on nodes
only, but a test may take every node down; needs root.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.3
ENTRY = "from generator.cli import main; main()"


def single_host_goldens() -> list[str]:
    from generator import transcript as tr
    from generator.lab.replay_matrix import roles_of

    paths = sorted((ROOT / "transcripts").glob("*.transcript"))
    return [str(p) for p in paths if not roles_of(tr.read(p))]


def timed(args: list[str]) -> float:
    command = [sys.executable, "-c", ENTRY, "replay", *args, "--json", "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    try:
        data = json.loads(done.stdout)
    except ValueError:
        sys.exit(f"{' '.join(args[-6:])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    failed = [
        f"{row['lab']} on {cell['stack']}: {cell['words']}"
        for row in data["labs"]
        for cell in row["cells"]
        if cell["state"] == "failed"
    ]
    if failed:
        sys.exit("cells failed:\n  " + "\n  ".join(failed))
    counts = ", ".join(
        f"{t['stack']} {t['holds']} hold, {t['drifts']} drift" for t in data["summary"]
    )
    print(f"  {' '.join(args[len(args) - 5 :])}: {counts}", file=sys.stderr)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[4, 6])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    from generator.hosts import stack_root, stacks

    stack_root.ensure_root(stacks.get("debian-13"), lambda line: print(line, file=sys.stderr))
    goldens = single_host_goldens()
    serial: list[float] = []
    both: dict[int, list[float]] = {jobs: [] for jobs in args.jobs}
    for number in range(args.rounds):
        serial.append(timed([*goldens, "--stack", "debian-12", "-j", "1"]))
        line = f"round {number + 1}: one stack, -j 1: {serial[-1]:.1f} s"
        for jobs in args.jobs:
            two = ["--stack", "debian-12", "--stack", "debian-13", "-j", str(jobs)]
            both[jobs].append(timed([*goldens, *two]))
            line += f"; two stacks, -j {jobs}: {both[jobs][-1]:.1f} s"
        print(line, file=sys.stderr)
    baseline = statistics.median(serial)
    print(f"{len(goldens)} single-host goldens, median of {args.rounds} round(s)")
    print(f"  one stack (debian-12), -j 1                {baseline:8.1f} s")
    best = None
    for jobs, times in both.items():
        ratio = statistics.median(times) / baseline
        best = ratio if best is None else min(best, ratio)
        print(
            f"  two stacks (debian-12, debian-13), -j {jobs:<3} {statistics.median(times):8.1f} s"
            f"   ratio {ratio:5.2f}x"
        )
    print(f"  target <= {TARGET}x; verdict: " + ("meets" if best and best <= TARGET else "MISSES"))


if __name__ == "__main__":
    main()
