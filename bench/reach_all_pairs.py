"""`recipe reach` on linux-bridge with n namespaces: every ordered pair (9,900 at n=100) by IP,
against the 5 s target of issue 13 and against `ping -c1 -W1` per pair, measured in the same
run from 5 sources and extrapolated to all of them.

    python bench/reach_all_pairs.py [--n 100] [--raise-neigh-limit]

The kernel keeps ONE ARP table for every namespace together, of at most
net.ipv4.neigh.default.gc_thresh3 entries (1024 by default), and an entry younger than 5 s is
never reclaimed: all pairs of 100 namespaces need 9,900 entries, so with the default most
probes are dropped (the matrix then names the overflow as the cause). --raise-neigh-limit sets
gc_thresh1/2/3 high enough for the run, as Mininet does for good, and restores them in the
end. Holds /run/recipe-tests.lock like the tests; needs root. The lab is removed in the end
(`recipe clean linux-bridge`).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOCK = Path("/run/recipe-tests.lock")
TARGET_S = 5.0
SUBNET = "172.30.0"  # linux-bridge's default: the bridge .1, namespace i .(i+1)
THRESH = Path("/proc/sys/net/ipv4/neigh/default")
BASELINE_SOURCES = 5


def recipe(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["recipe", *args], capture_output=True, text=True, env=env, check=False)


def baseline(n: int) -> float:
    """Seconds of `ping -c1 -W1` from BASELINE_SOURCES namespaces to every other, per pair."""
    started = time.perf_counter()
    count = 0
    for i in range(1, BASELINE_SOURCES + 1):
        for j in range(1, n + 1):
            if i != j:
                subprocess.run(
                    ["ip", "netns", "exec", f"test{i}", "ping", "-c1", "-W1", f"{SUBNET}.{j + 1}"],
                    capture_output=True,
                    check=False,
                )
                count += 1
    return (time.perf_counter() - started) / count


def raise_limits(pairs: int) -> dict[str, str]:
    """Raise the ARP table's thresholds for the run; what they were, to restore."""
    before = {name: (THRESH / name).read_text().strip() for name in ("gc_thresh1", "gc_thresh2")}
    before["gc_thresh3"] = (THRESH / "gc_thresh3").read_text().strip()
    wanted = {"gc_thresh1": pairs, "gc_thresh2": pairs * 2, "gc_thresh3": pairs * 4}
    for name in ("gc_thresh3", "gc_thresh2", "gc_thresh1"):
        if int(before[name]) < wanted[name]:
            (THRESH / name).write_text(str(wanted[name]))
    return before


def restore(before: dict[str, str]) -> None:
    for name in ("gc_thresh1", "gc_thresh2", "gc_thresh3"):
        (THRESH / name).write_text(before[name])


def measure(n: int, env: dict[str, str]) -> None:
    pairs = n * (n - 1)
    started = time.perf_counter()
    done = recipe("reach", "--only", "test*", "--json", env=env)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"recipe reach failed: {done.stderr.strip()}")
    data = json.loads(done.stdout)
    reached = sum(1 for p in data["pairs"] if p["actual"])
    print(f"recipe reach: {len(data['pairs'])} pairs, {reached} reached, holds={data['holds']}")
    if not data["holds"]:
        print("  first cause:", next(p["cause"] for p in data["pairs"] if not p["actual"]))
    print(f"  {elapsed:.2f} s end to end (the prober itself {data['seconds']:.2f} s)")
    print(f"  target {TARGET_S:.0f} s: ratio {elapsed / TARGET_S:.2f}x")
    per_pair = baseline(n)
    estimate = per_pair * pairs
    print(
        f"baseline: ping -c1 -W1 per pair, {per_pair * 1000:.1f} ms a pair from "
        f"{BASELINE_SOURCES} sources, {estimate:.1f} s for {pairs} pairs (extrapolated)"
    )
    print(f"  recipe reach is {estimate / elapsed:.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--raise-neigh-limit", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "RECIPE_STATE_DIR": tempfile.mkdtemp(prefix="rcp-rch-bench-")}
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        before = raise_limits(args.n * (args.n - 1)) if args.raise_neigh_limit else None
        try:
            built = recipe(
                "run",
                "linux-bridge",
                "--set",
                f"n={args.n}",
                "--keep",
                "--no-record",
                "-q",
                env=env,
            )
            if built.returncode != 0:
                sys.exit(f"recipe run linux-bridge failed: {built.stderr.strip()[-500:]}")
            measure(args.n, env)
        finally:
            cleaned = recipe("clean", "linux-bridge", "-q", env=env)
            if cleaned.returncode != 0:
                print(f"recipe clean linux-bridge: {cleaned.stderr.strip()}", file=sys.stderr)
            if before is not None:
                restore(before)
            shutil.rmtree(env["RECIPE_STATE_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
