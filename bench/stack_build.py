"""A stack's root built cold by ensure_root, against the bare mmdebstrap call it wraps.

    python bench/stack_build.py [--stack debian-13] [--baseline mmdebstrap|debootstrap]

Needs root and the network to the Debian mirror ($RECIPE_STACK_MIRROR, else deb.debian.org):
each cold build downloads about 150 MB. In the same run, and into temporary folders removed at
the end: the baseline, the bare `mmdebstrap --variant=minbase --include=<the stack's packages>`
(or debootstrap) for the same suite; then ensure_root into an empty RECIPE_STACK_CACHE (the
namespaces, the versions file, the rename, the stamp); then ensure_root again, a cache hit.
Prints the seconds, the ratio to the baseline, and the target of 60 s for the cold build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.hosts import stack_root, stacks

TARGET = 60.0  # seconds, cold
WARM_RUNS = 20


def _baseline(stack: stacks.Stack, tool: str, into: Path) -> float:
    if shutil.which(tool) is None:
        raise SystemExit(f"{tool} is not installed; apt-get install {tool}, or choose the other")
    if tool == "mmdebstrap":
        command = ["mmdebstrap", "--mode=root", "--variant=minbase"]
        command += ["--include=" + ",".join(stack.packages), stack.suite, str(into)]
    else:
        command = ["debootstrap", "--variant=minbase", "--include=" + ",".join(stack.packages)]
        command += [stack.suite, str(into)]
    start = time.perf_counter()
    done = subprocess.run([*command, stacks.mirror()], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{tool} failed: {done.stderr.strip().splitlines()[-1:]}")
    return elapsed


def _cold_and_warm(stack: stacks.Stack, cache: Path) -> tuple[float, float, Path]:
    os.environ[stacks.CACHE_ENV] = str(cache)
    start = time.perf_counter()
    root = stack_root.ensure_root(stack, lambda line: print(f"  {line}", flush=True))
    cold = time.perf_counter() - start
    warm = []
    for _ in range(WARM_RUNS):
        start = time.perf_counter()
        stack_root.ensure_root(stack, lambda line: None)
        warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm), root


def _size(path: Path) -> str:
    done = subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True)
    return done.stdout.split()[0] if done.returncode == 0 else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="debian-13", help="the stack (default debian-13)")
    parser.add_argument("--baseline", choices=("mmdebstrap", "debootstrap"), default="mmdebstrap")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("stack_build.py needs root (mmdebstrap --mode=root)")
    stack = stacks.get(args.stack)
    work = Path(tempfile.mkdtemp(prefix="recipe-bench-stack-", dir="/var/tmp"))
    try:
        bare_root = work / "bare"
        print(f"{args.baseline} {stack.suite}, {len(stack.packages)} packages ...", flush=True)
        bare = _baseline(stack, args.baseline, bare_root)
        bare_size = _size(bare_root)
        shutil.rmtree(bare_root)
        print(f"ensure_root({stack.name}) into an empty cache ...", flush=True)
        cold, warm, root = _cold_and_warm(stack, work / "cache")
        print(f"{'bare ' + args.baseline:28} {bare:7.1f} s   ({bare_size})")
        print(f"{'ensure_root, cold':28} {cold:7.1f} s   ({_size(root)})")
        print(f"{'ensure_root, warm (median)':28} {warm * 1000:7.2f} ms")
        verdict = "meets" if cold <= TARGET else "MISSES"
        print(f"ratio: cold {cold / bare:.2f}x the bare {args.baseline} ({verdict} {TARGET:.0f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
