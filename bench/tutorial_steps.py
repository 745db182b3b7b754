"""`recipe run` on a Markdown tutorial against `recipe run` on the same commands written as a
script, in the same benchmark run (issue 14: a tutorial costs no more per step than a script).

    .venv/bin/python bench/tutorial_steps.py [--steps 300] [--rounds 5] [--record]

Both files are made in a temporary directory outside the repo. The tutorial has `console`
blocks with `$ ` prompts and the output `ip` really prints, so the reader's comparison runs for
every step that shows output, a few `bash` blocks, and a "## Clean up" section that deletes the
namespaces. The script holds the same commands in the same order, its clean-up in a `#@
teardown` function as a rendered script has it (docs/script-format.md), so both runs have the
same main steps and the same teardown steps; each run's summary line is checked for the count.
Per round, alternating: `bash script.sh` (the floor), `recipe run script.sh --no-record`,
`recipe run tutorial.md --no-record` (and with --record, both again writing a transcript).
Every run must exit 0 and the tutorial's must say that all its blocks hold, or the bench stops:
a broken run is not a measurement. Printed: the median wall time of each, the cost per step
over bash, the ratios tutorial/script per step and end to end, and the cost of a step alone:
the same pair run with one group of namespaces (6 steps) takes off what a run costs whatever
its length (start-up, reading the page, the egress guard), and the difference per extra step is
judged (target: a tutorial's step <= 1.1x a script's).

Each round holds /run/recipe-tests.lock like the tests (released between rounds), and checks
that it left nothing behind; needs root. Namespaces are named rcp-bt-*; any left at the end is
deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.lab import leftovers
from generator.lab import script as script_format
from generator.lab.tutorial_script import to_script
from generator.tutorial import markdown

LOCK = Path("/run/recipe-tests.lock")
PREFIX = "rcp-bt-"
RATIO_TARGET = 1.1  # a tutorial's step against the same step in a script
GROUP = 5  # namespaces per block
STEPS_PER_NAMESPACE = 6  # add, show, link set up, show, addr show; and the delete
# The recipe of the environment this interpreter belongs to, not whichever is first on PATH.
BESIDE = Path(sys.executable).with_name("recipe")
RECIPE = str(BESIDE) if BESIDE.exists() else "recipe"
# What `ip -br` prints for a new namespace's loopback (iproute2 6.1), padded as it pads it.
LO_DOWN = "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> "
LO_UP = "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> "
LO_ADDR = "lo               UNKNOWN        127.0.0.1/8 ::1/128 "


def names(count: int) -> list[list[str]]:
    """The namespaces, GROUP to a block."""
    every = [f"{PREFIX}{i}" for i in range(1, count + 1)]
    return [every[i : i + GROUP] for i in range(0, count, GROUP)]


def console(lines: list[str]) -> list[str]:
    return ["```console", *lines, "```", ""]


def tutorial_text(count: int) -> str:
    """A page that makes count namespaces, looks at their loopback and deletes them."""
    out = ["# Loopback in a new namespace", "", "Every namespace starts with a loopback.", ""]
    groups = names(count)
    for number, group in enumerate(groups, 1):
        out += [f"## Namespaces, part {number}", "", "Make the namespaces; lo is down:", ""]
        made: list[str] = []
        for ns in group:
            made += [f"$ ip netns add {ns}", f"$ ip -n {ns} -br link show lo", LO_DOWN]
        out += console(made)
        out += ["Bring lo up in each:", "", "```bash"]
        out += [f"ip -n {ns} link set lo up" for ns in group] + ["```", ""]
        out += ["Now it is up, with its addresses:", ""]
        shown: list[str] = []
        for ns in group:
            shown += [f"$ ip -n {ns} -br link show lo", LO_UP]
            shown += [f"$ ip -n {ns} -br addr show lo", LO_ADDR]
        out += console(shown)
    out += ["## Clean up", ""]
    for group in groups:
        out += console([f"$ ip netns del {ns}" for ns in group])
    return "\n".join(out)


def script_text(count: int) -> str:
    """The same commands, in the same order, as a script with its teardown."""
    groups = names(count)
    out = ["#!/usr/bin/env bash", "#@ teardown", "teardown() {", "  set +e"]
    out += [f"  ip netns del {ns}" for group in groups for ns in group]
    out += ["}", "trap teardown EXIT", "#@ end-teardown", "", "#@ steps"]
    for group in groups:
        for ns in group:
            out += [f"ip netns add {ns}", f"ip -n {ns} -br link show lo"]
        out += [f"ip -n {ns} link set lo up" for ns in group]
        for ns in group:
            out += [f"ip -n {ns} -br link show lo", f"ip -n {ns} -br addr show lo"]
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Files:
    tutorial: Path
    script: Path
    main: int  # steps before the teardown, the same in both
    teardown: int
    blocks: int

    @property
    def steps(self) -> int:
        return self.main + self.teardown


def write_files(work: Path, count: int) -> Files:
    """Both files, and their step counts, which must agree."""
    tutorial, script = work / "tutorial.md", work / "script.sh"
    tutorial.write_text(tutorial_text(count))
    script.write_text(script_text(count))
    page = markdown.parse(tutorial.read_text(), str(tutorial))
    from_page = to_script(page)
    from_script = script_format.load(script)
    counts = (len(from_page.steps), len(from_page.teardown))
    if counts != (len(from_script.steps), len(from_script.teardown)):
        sys.exit(
            f"the files differ in steps: tutorial {counts}, script "
            f"{(len(from_script.steps), len(from_script.teardown))} (main, teardown)"
        )
    for phase in ("steps", "teardown"):
        page_commands = [s.command for s in getattr(from_page, phase)]
        if page_commands != [s.command for s in getattr(from_script, phase)]:
            sys.exit(f"the tutorial and the script differ in their {phase}")
    return Files(tutorial, script, counts[0], counts[1], len(page.blocks))


def timed(command: list[str], what: str, env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of COMMAND and its output; the bench stops when it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(
            f"{what} failed with status {done.returncode}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return elapsed, done.stdout + done.stderr


def check_passed(output: str, files: Files, what: str) -> None:
    """The summary line counts every step: `passed: 250 ok; teardown 50 ok in ...`."""
    wanted = f"passed: {files.main} ok; teardown {files.teardown} ok"
    if wanted not in output:
        sys.exit(f"{what}: no line {wanted!r} in its output:\n{output[-2000:]}")


def check_holds(output: str, files: Files, what: str) -> None:
    wanted = f"{files.blocks} of {files.blocks} blocks hold"
    if not re.search(rf"^{wanted}$", output, re.MULTILINE):
        sys.exit(f"{what}: not every block holds (want {wanted!r}):\n{output[-3000:]}")


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """/run/recipe-tests.lock held, as the tests hold it."""
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def ours() -> list[str]:
    """The rcp-bt-* namespaces on this machine."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in listed.stdout.splitlines() if line.startswith(PREFIX)]


def remove_ours() -> None:
    left = ours()
    for ns in left:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
    if left:
        print(f"removed {len(left)} namespace(s) left behind: {' '.join(left)}", file=sys.stderr)


@dataclass
class Times:
    bash: list[float] = field(default_factory=list)
    script: list[float] = field(default_factory=list)
    tutorial: list[float] = field(default_factory=list)
    script_rec: list[float] = field(default_factory=list)
    tutorial_rec: list[float] = field(default_factory=list)
    # The same pair with one group of namespaces: what a run costs whatever its length (start-up,
    # the page read, the egress guard), so the difference is the cost of the steps alone.
    script_small: list[float] = field(default_factory=list)
    tutorial_small: list[float] = field(default_factory=list)


def run_recipe(target: Path, files: Files, env: dict[str, str], record: Path | None) -> float:
    """One `recipe run`, its output checked; its wall time."""
    flags = ["--record", str(record)] if record else ["--no-record"]
    what = f"recipe run {target.name} {' '.join(flags)}"
    elapsed, output = timed([RECIPE, "run", str(target), *flags], what, env)
    check_passed(output, files, what)
    if target == files.tutorial:
        check_holds(output, files, what)
    return elapsed


def one_round(
    number: int, files: Files, small: Files, env: dict[str, str], times: Times, record: bool
) -> None:
    """bash, then the script and the tutorial, alternating which goes first; then the small pair."""
    work = files.script.parent
    with locked():
        small_pair = [(small.script, times.script_small), (small.tutorial, times.tutorial_small)]
        for target, into in small_pair if number % 2 == 0 else small_pair[::-1]:
            into.append(run_recipe(target, small, env, None))
        before = leftovers.take_local()
        times.bash.append(timed(["bash", str(files.script)], "bash script.sh", env)[0])
        order = [files.script, files.tutorial]
        for target in order if number % 2 == 0 else order[::-1]:
            into = times.script if target == files.script else times.tutorial
            into.append(run_recipe(target, files, env, None))
            if record:
                into = times.script_rec if target == files.script else times.tutorial_rec
                path = work / f"{target.stem}-{number}.transcript"
                into.append(run_recipe(target, files, env, path))
        left = leftovers.take_local().added_since(before)
    if left:
        sys.exit(f"round {number + 1} left behind: {leftovers.describe(left)}")
    recorded = (
        f"; --record: script {times.script_rec[-1]:.3f} s, tutorial {times.tutorial_rec[-1]:.3f} s"
        if record
        else ""
    )
    print(
        f"round {number + 1}: bash {times.bash[-1]:.3f} s, script {times.script[-1]:.3f} s, "
        f"tutorial {times.tutorial[-1]:.3f} s{recorded}",
        file=sys.stderr,
    )


def pair(label: str, script: list[float], tutorial: list[float], bash_s: float, steps: int) -> None:
    """The medians of one pair of runs, their cost per step over bash, and the ratios."""
    script_s, tutorial_s = statistics.median(script), statistics.median(tutorial)
    script_ms = (script_s - bash_s) / steps * 1000
    tutorial_ms = (tutorial_s - bash_s) / steps * 1000
    print(f"  recipe run script.sh {label:<18} {script_s:8.3f} s  {script_ms:7.3f} ms a step")
    print(f"  recipe run tutorial.md {label:<16} {tutorial_s:8.3f} s  {tutorial_ms:7.3f} ms a step")
    if script_ms <= 0:
        sys.exit(f"recipe run script.sh {label} was no slower than bash: nothing to compare")
    print(
        f"    tutorial/script: per step with the run's fixed cost {tutorial_ms / script_ms:.3f}x, "
        f"end to end {tutorial_s / script_s:.3f}x"
    )


def report(files: Files, small: Files, times: Times, rounds: int) -> None:
    bash_s = statistics.median(times.bash)
    print(
        f"{files.tutorial.name} ({files.blocks} blocks) and {files.script.name}: "
        f"{files.steps} steps each "
        f"({files.main} + {files.teardown} teardown), median of {rounds} rounds, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    )
    print(f"  bash script.sh (the floor)              {bash_s:8.3f} s")
    print("  per step: (recipe time - bash time) / steps")
    pair("--no-record", times.script, times.tutorial, bash_s, files.steps)
    if times.script_rec:
        pair("--record FILE", times.script_rec, times.tutorial_rec, bash_s, files.steps)
    marginal(files, small, times)


def marginal(files: Files, small: Files, times: Times) -> None:
    """The cost of a step alone: the long run's time less the short one's, per extra step."""
    extra = files.steps - small.steps
    script_ms = (statistics.median(times.script) - statistics.median(times.script_small)) / extra
    tutorial_ms = (
        statistics.median(times.tutorial) - statistics.median(times.tutorial_small)
    ) / extra
    ratio = tutorial_ms / script_ms
    verdict = "meets" if ratio <= RATIO_TARGET else "MISSES"
    print(
        f"  a step alone ({files.steps} steps less {small.steps}, --no-record): script "
        f"{script_ms * 1000:.3f} ms, tutorial {tutorial_ms * 1000:.3f} ms: "
        f"{ratio:.3f}x ({verdict} the target of <= {RATIO_TARGET}x)"
    )
    print(
        f"  a run's fixed cost ({small.steps} steps): script "
        f"{statistics.median(times.script_small):.3f} s, tutorial "
        f"{statistics.median(times.tutorial_small):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, default=300, help="steps in each file, rounded down to a multiple of 6"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="also time --record FILE runs")
    args = parser.parse_args()
    count = max(1, args.steps // STEPS_PER_NAMESPACE)
    if ours():
        sys.exit(f"namespaces {' '.join(ours())} exist already; remove them first")
    work = Path(tempfile.mkdtemp(prefix="rcp-bt-bench-"))
    env = {**os.environ, "RECIPE_STATE_DIR": str(work / "state")}
    times = Times()
    try:
        files = write_files(work, count)
        (work / "small").mkdir()
        small = write_files(work / "small", 1)
        for number in range(args.rounds):
            one_round(number, files, small, env, times, args.record)
        report(files, small, times, args.rounds)
    finally:
        with locked():
            remove_ours()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
