"""`recipe reach` on linux-bridge with n namespaces: every ordered pair (9,900 at n=100) by IP,
against the 5 s target of issue 13, against `ping -c1 -W1` per pair (measured in the same run
from 5 sources and extrapolated to all of them), and against Mininet's `pingall` on the same
topology, n hosts on one Linux bridge, run right after in the same run (bench/mininet_pingall.py).

    python bench/reach_all_pairs.py [--n 100] [--raise-neigh-limit] [--no-mininet]

Run it with the Python of the environment recipe is installed in (.venv/bin/python): the
`recipe` beside that interpreter is the one measured. The kernel keeps ONE ARP table for every
namespace together, of at most net.ipv4.neigh.default.gc_thresh3 entries (1024 by default),
and an entry younger than 5 s is never reclaimed: all pairs of 100 namespaces need 9,900
entries, so with the default most probes are dropped (the matrix then names the overflow as the
cause). --raise-neigh-limit passes `recipe reach --raise-neigh-limit`, which raises
gc_thresh1/2/3 for the probe, as Mininet does for good, and restores them. Holds
/run/recipe-tests.lock like the tests; needs root. In the end the lab is removed (`recipe clean
linux-bridge`) and the machine is checked for anything left behind, as the tests check it.
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

import mininet_pingall

from generator.lab import leftovers

LOCK = Path("/run/recipe-tests.lock")
TARGET_S = 5.0
MININET_FACTOR = 4.0  # issue 13: at least this much faster than Mininet's pingall
SUBNET = "172.30.0"  # linux-bridge's default: the bridge .1, namespace i .(i+1)
BASELINE_SOURCES = 5
# The recipe of the environment this interpreter belongs to, not whichever is first on PATH.
BESIDE = Path(sys.executable).with_name("recipe")
RECIPE = str(BESIDE) if BESIDE.exists() else "recipe"


def recipe(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """`recipe ARGS` and its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run([RECIPE, *args], capture_output=True, text=True, env=env, check=False)
    return done, time.perf_counter() - started


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


def measure(n: int, env: dict[str, str], raise_limit: bool) -> float:
    """recipe reach over all pairs, printed; its wall time, end to end."""
    flags = ["--raise-neigh-limit"] if raise_limit else []
    done, elapsed = recipe("reach", "--only", "test*", "--json", *flags, env=env)
    if done.returncode not in (0, 1):
        sys.exit(f"recipe reach failed: {done.stderr.strip()}")
    data = json.loads(done.stdout)
    reached = sum(1 for p in data["pairs"] if p["actual"])
    print(f"recipe reach: {len(data['pairs'])} pairs, {reached} reached, holds={data['holds']}")
    if not data["holds"]:
        print("  first cause:", next(p["cause"] for p in data["pairs"] if not p["actual"]))
    print(f"  {elapsed:.2f} s end to end (the prober itself {data['seconds']:.2f} s)")
    print(f"  target {TARGET_S:.0f} s: ratio {elapsed / TARGET_S:.2f}x")
    return elapsed


def on_linux_bridge(n: int, env: dict[str, str], raise_limit: bool) -> tuple[float, float]:
    """The lab made, probed, measured against ping and removed: (reach s, whole lab s)."""
    built, up = recipe(
        "run", "linux-bridge", "--set", f"n={n}", "--keep", "--no-record", "-q", env=env
    )
    down = 0.0
    try:
        if built.returncode != 0:
            sys.exit(f"recipe run linux-bridge failed: {built.stderr.strip()[-500:]}")
        reach_s = measure(n, env, raise_limit)
        per_pair = baseline(n)
    finally:
        cleaned, down = recipe("clean", "linux-bridge", "-q", env=env)
        if cleaned.returncode != 0:
            print(f"recipe clean linux-bridge: {cleaned.stderr.strip()}", file=sys.stderr)
    pairs = n * (n - 1)
    print(
        f"baseline: ping -c1 -W1 per pair, {per_pair * 1000:.1f} ms a pair from "
        f"{BASELINE_SOURCES} sources, {per_pair * pairs:.1f} s for {pairs} pairs (extrapolated)"
    )
    print(f"  recipe reach is {per_pair * pairs / reach_s:.1f}x faster")
    return reach_s, up + reach_s + down


def against_mininet(n: int, reach_s: float, lab_s: float) -> None:
    """Mininet's pingall on n hosts on one Linux bridge, and the ratios."""
    if not mininet_pingall.installed():
        print("mininet: not installed (bash scripts/install.sh --bench), not compared")
        return
    got = mininet_pingall.run(n)
    print(
        f"mininet: mn --topo single,{n} --switch lxbr --controller none --test pingall: "
        f"{got.received}/{got.sent} received"
    )
    print(f"  pingall {got.pingall_s:.2f} s; the whole mn run {got.total_s:.2f} s")
    ratio = got.pingall_s / reach_s
    verdict = "meets" if ratio >= MININET_FACTOR else "MISSES"
    print(
        f"  recipe reach is {ratio:.1f}x faster than pingall "
        f"({verdict} the target of at least {MININET_FACTOR:.0f}x)"
    )
    print(
        f"  making, probing and removing the lab: recipe {lab_s:.2f} s (run --keep, reach, "
        f"clean) against mn {got.total_s:.2f} s: {got.total_s / lab_s:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--raise-neigh-limit", action="store_true")
    parser.add_argument("--no-mininet", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "RECIPE_STATE_DIR": tempfile.mkdtemp(prefix="rcp-rch-bench-")}
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        before = leftovers.take_local()
        try:
            reach_s, lab_s = on_linux_bridge(args.n, env, args.raise_neigh_limit)
            if not args.no_mininet:
                against_mininet(args.n, reach_s, lab_s)
        finally:
            shutil.rmtree(env["RECIPE_STATE_DIR"], ignore_errors=True)
            left = leftovers.take_local().added_since(before)
        if left:
            sys.exit(f"left behind: {leftovers.describe(left)}")


if __name__ == "__main__":
    main()
