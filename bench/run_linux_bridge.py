"""`recipe run linux-bridge --set n=100` (recording a transcript) against `bash` running the same
rendered script, in the same benchmark run.

    python bench/run_linux_bridge.py [--n 100] [--rounds 3]

Both sides do the same work: every step, and the whole teardown (bash through its EXIT trap).
The two alternate round by round, so drift in the machine's load hits both alike; the median of
each is compared. Also printed: the pure per-step cost of the persistent shell (a `:` command),
and the usual approach, a new `bash -c` process with its own capture per command, as the floor
to beat. Targets: ratio <= 1.15, per-step overhead < 1 ms.

Holds /run/recipe-tests.lock like the tests, so it never collides with them; needs root.
"""

from __future__ import annotations

import argparse
import fcntl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator.lab import leftovers
from generator.lab import script as script_format
from generator.shell.local import LocalShell

LOCK = Path("/run/recipe-tests.lock")
RATIO_TARGET = 1.15
STEP_TARGET_MS = 1.0


def timed(command: list[str], what: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{what} failed with status {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed


def per_step_shell_ms(count: int = 2000) -> float:
    with LocalShell() as shell:
        started = time.perf_counter()
        for _ in range(count):
            shell.run(":", 10)
        return (time.perf_counter() - started) / count * 1000


def per_step_process_ms(count: int = 300) -> float:
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run(["bash", "-c", ":"], capture_output=True, check=False)
    return (time.perf_counter() - started) / count * 1000


def arguments(description: str) -> argparse.Namespace:
    """--n and --rounds, shared with bench/run_ssh.py."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="namespaces in the lab")
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def render_lab(n: int, prefix: str) -> tuple[Path, Path, script_format.Script]:
    """A work directory, linux-bridge rendered into it with n namespaces, and its parsed steps."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    lab = work / "lab.sh"
    render = subprocess.run(
        ["recipe", "render", "linux-bridge", "--set", f"n={n}"],
        capture_output=True,
        text=True,
        check=True,
    )
    lab.write_text(render.stdout)
    return work, lab, script_format.load(lab)


def main() -> None:
    args = arguments(__doc__ or "")
    work, lab, parsed = render_lab(args.n, "recipe-bench-")
    steps = len(parsed.steps) + len(parsed.teardown)

    bash_times: list[float] = []
    run_times: list[float] = []
    bare_times: list[float] = []  # --no-snapshots: what observing the state costs
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        before = leftovers.take_local()
        for number in range(args.rounds):
            bash_times.append(timed(["bash", str(lab)], "bash lab.sh"))
            transcript = work / f"run-{number}.transcript"
            run_times.append(
                timed(["recipe", "run", str(lab), "--record", str(transcript)], "recipe run")
            )
            bare = ["recipe", "run", str(lab), "--record", str(transcript), "--no-snapshots"]
            bare_times.append(timed(bare, "recipe run --no-snapshots"))
            print(
                f"round {number + 1}: bash {bash_times[-1]:.3f} s, "
                f"recipe run {run_times[-1]:.3f} s, without snapshots {bare_times[-1]:.3f} s",
                file=sys.stderr,
            )
        left = leftovers.take_local().added_since(before)
        if left:
            sys.exit(f"the benchmark left behind: {leftovers.describe(left)}")
    shell_ms = per_step_shell_ms()
    process_ms = per_step_process_ms()

    bash_s, run_s = statistics.median(bash_times), statistics.median(run_times)
    ratio = run_s / bash_s
    overhead_ms = (run_s - bash_s) / steps * 1000
    print(
        f"linux-bridge n={args.n}: {steps} steps "
        f"({len(parsed.steps)} + {len(parsed.teardown)} teardown), "
        f"median of {args.rounds} rounds"
    )
    print(f"  bash lab.sh                         {bash_s:8.3f} s")
    print(f"  recipe run lab.sh --record FILE     {run_s:8.3f} s  (state snapshots on)")
    bare_s = statistics.median(bare_times)
    print(f"  the same with --no-snapshots        {bare_s:8.3f} s  ({run_s - bare_s:+.3f} s)")
    print(f"  ratio                               {ratio:8.3f}x   (target <= {RATIO_TARGET}x)")
    print(
        f"  overhead per step, whole run        {overhead_ms:8.3f} ms  "
        f"(target < {STEP_TARGET_MS} ms;"
        " includes Python start, host facts, leftover checks, state snapshots)"
    )
    print(f"  persistent shell, per `:` step      {shell_ms:8.3f} ms")
    print(
        f"  new bash -c process per step        {process_ms:8.3f} ms  "
        "(the usual approach, the floor to beat)"
    )
    ok = ratio <= RATIO_TARGET and overhead_ms < STEP_TARGET_MS
    print("  verdict: " + ("meets both targets" if ok else "MISSES a target"))


if __name__ == "__main__":
    main()
