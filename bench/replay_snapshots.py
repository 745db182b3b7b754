"""Replaying a 1,000-step transcript with state snapshots against replaying it without them, in
the same benchmark run.

    flock /run/recipe-tests.lock python bench/replay_snapshots.py [--steps 1000] [--rounds 5]

One lab is recorded twice: once as `recipe run` records it (snapshots before the lab, at a
`#@ snapshot` step and at the end of the main phase) and once with --no-snapshots. Each is
replayed with `recipe replay --recorded-commands`: the first replay observes the hosts again,
names volatile values from its snapshots and compares the two graphs; the second compares step
output only. The lab makes a few namespaces, a bridge and veth pairs, then lists them again and
again, so every step's output goes through normalization. The two alternate round by round;
the medians are compared. Target (issue 12): at most 1.1x.

Holds /run/recipe-tests.lock like the tests (take it with flock); needs root.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.1
PREFIX = "rcp-rsb"


def lab(steps: int) -> str:
    """A script of `steps` main steps: a small topology, then listings of it."""
    build = [
        f"ip link add {PREFIX}-br type bridge",
        f"ip link set {PREFIX}-br up",
    ]
    for n in range(3):
        build += [
            f"ip netns add {PREFIX}-{n}",
            f"ip link add {PREFIX}-h{n} type veth peer name eth0 netns {PREFIX}-{n}",
            f"ip link set {PREFIX}-h{n} master {PREFIX}-br",
            f"ip -n {PREFIX}-{n} addr add 10.209.0.{n + 1}/24 dev eth0",
        ]
    listings = [f"ip -o link show master {PREFIX}-br", f"ip -n {PREFIX}-0 -o addr show", "true"]
    # Each veth deleted here: a namespace's deletion takes its ends with it only later.
    teardown = [f"  ip link del {PREFIX}-h{n}" for n in range(3)]
    teardown += [f"  ip netns del {PREFIX}-{n}" for n in range(3)] + [f"  ip link del {PREFIX}-br"]
    body = ["#@ teardown", "teardown() {", *teardown, "}", "#@ end-teardown", "#@ steps"]
    body += [*build, "#@ snapshot built"]
    body += [listings[i % len(listings)] for i in range(steps - len(build))]
    return "\n".join([*body, ""])


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="recipe-bench-replay-"))
    script = work / "lab.sh"
    script.write_text(lab(args.steps))
    with_state, without = work / "with.transcript", work / "without.transcript"
    timed(["recipe", "run", str(script), "--record", str(with_state), "-q"])
    timed(["recipe", "run", str(script), "--record", str(without), "-q", "--no-snapshots"])
    replay = ["recipe", "replay", "--recorded-commands", "--quiet", "--color", "never"]
    on: list[float] = []
    off: list[float] = []
    for number in range(args.rounds):
        on.append(timed([*replay, str(with_state)]))
        off.append(timed([*replay, str(without)]))
        print(f"round {number + 1}: with {on[-1]:.3f} s, without {off[-1]:.3f} s", file=sys.stderr)
    with_s, without_s = statistics.median(on), statistics.median(off)
    ratio = with_s / without_s
    print(f"replay of {args.steps} steps, median of {args.rounds} rounds")
    print(f"  with snapshots (3 taken, graphs compared) {with_s:8.3f} s")
    print(f"  without snapshots                         {without_s:8.3f} s")
    print(f"  ratio                                     {ratio:8.3f}x   (target <= {TARGET}x)")
    print("  verdict: " + ("meets the target" if ratio <= TARGET else "MISSES the target"))


if __name__ == "__main__":
    main()
