"""Cold start of `recipe render custom-bridge` against a minimal two-command Typer app.

    python bench/render_startup.py [--runs N] [--recipe NAME]

Each run is a new Python process, so every import is paid again, as when a person types the
command. The two commands alternate, so drift in the machine's load hits both alike. Prints the
median of each and their ratio; the target is at most 1.25x the minimal app.
"""

from __future__ import annotations

import argparse
import compileall
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = 1.25


def recipe_command(recipe: str) -> list[str]:
    """The installed console script, run by this interpreter; the module when not installed."""
    script = Path(sysconfig.get_path("scripts")) / "recipe"
    if script.is_file():
        return [sys.executable, str(script), "render", recipe]
    return [sys.executable, "-c", "from generator.cli import main; main()", "render", recipe]


def seconds(command: list[str]) -> tuple[float, float]:
    """Wall time, and the CPU time (user + system) the child used: on a shared machine the CPU
    time moves less with other people's load, so both are shown."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode().strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each command (default 40)")
    parser.add_argument("--recipe", default="custom-bridge", help="recipe to render")
    args = parser.parse_args()

    # Byte-compile the package as an install does: with PYTHONDONTWRITEBYTECODE set (as on the
    # developers' machines) Python would otherwise compile every module of ours on every run.
    compileall.compile_dir(str(HERE.parent / "generator"), quiet=1)
    floor_cmd = [sys.executable, str(HERE / "minimal_app.py"), "hello"]
    render_cmd = recipe_command(args.recipe)
    for command in (floor_cmd, render_cmd):  # warm the page cache and .pyc files once
        seconds(command)
    floor: list[tuple[float, float]] = []
    render: list[tuple[float, float]] = []
    for _ in range(args.runs):
        floor.append(seconds(floor_cmd))
        render.append(seconds(render_cmd))

    print(f"python {sys.version.split()[0]}, {args.runs} cold runs each, medians")
    print(f"{'':34} {'wall':>9} {'cpu':>9}")
    for label, runs in (
        ("minimal Typer app (2 commands)", floor),
        (f"recipe render {args.recipe}", render),
    ):
        wall, cpu = (statistics.median(r[i] for r in runs) * 1000 for i in (0, 1))
        print(f"{label:34} {wall:6.1f} ms {cpu:6.1f} ms")
    ratios = [
        statistics.median(r[i] for r in render) / statistics.median(f[i] for f in floor)
        for i in (0, 1)
    ]
    verdict = "meets" if ratios[0] <= TARGET else "MISSES"
    print(f"ratio: wall {ratios[0]:.2f}x, cpu {ratios[1]:.2f}x ({verdict} the {TARGET}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
