"""Replay goldens on stacks: each single-host golden on a node of each stack, as a matrix.

A cell is one (golden, stack). Its reference is the stack's own recording,
`<dir>/stacks/<stack>/<file>`, when there is one, else the golden itself (with a note). A
multi-host golden is not run on stacks: it needs docker-node1/2, where a plain replay runs it.

Each cell runs as a child process, `recipe replay REF --host NODE --json -q`, on a node of its
stack; a node runs one lab at a time (its own namespaces and engine, so labs on different nodes
cannot collide) and at most `jobs` run at once. The nodes this run made are taken down at the
end, also on an error or Ctrl-C; the children get SIGINT first, so their teardowns run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from generator import transcript as tr
from generator.errors import UserError
from generator.hosts import stacks as stack_list
from generator.transcript import files

MANY_HOSTS = "more than two hosts: a stack has a pair of nodes"
HOLDS, DRIFTS, FAILED, NOT_RUN = "holds", "drifts", "failed", "not run"
STATES = (HOLDS, DRIFTS, FAILED, NOT_RUN)
GRACE = 30.0  # seconds a child has, after SIGINT, to run its teardown before it is killed

Say = Callable[[str], None]


@dataclass
class Cell:
    """One golden on one stack: what it is compared with, and how it went."""

    lab: str
    golden: Path  # the transcript given
    stack: str
    reference: Path | None  # what the stack's run is compared with; None: not run
    notes: list[str] = field(default_factory=list)
    state: str = NOT_RUN
    reason: str = ""  # not run: why; failed: the one line
    node: str = ""
    roles: tuple[str, ...] = ()  # a two-host lab's roles, run on the stack's pair; () one host
    report: dict[str, Any] | None = None  # the child's report (docs/replay.md)
    new_file: Path | None = None  # --update: the stack's first recording is written here
    written: Path | None = None  # --update: the file the run was written to
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Holds, or was written back without a problem, or is not run on stacks at all."""
        if self.state == NOT_RUN:
            return self.reference is None
        report = self.report or {}
        return self.state == HOLDS or bool(report.get("updated")) and not report.get("problems")


def roles_of(transcript: tr.Transcript) -> tuple[str, ...]:
    """The roles of a lab recorded across several hosts (the header's, else its steps'); ()
    for one host."""
    roles = tuple(transcript.header.target.split(","))
    steps = tuple(dict.fromkeys(step.role for step in transcript.steps if step.role))
    return roles if len(roles) > 1 else steps if len(steps) > 1 else ()


def plan(transcripts: Sequence[tr.Transcript], stacks: Sequence[str], update: bool) -> list[Cell]:
    """Every cell, golden by golden, in the order the stacks were given."""
    cells = []
    for transcript in transcripts:
        golden = Path(transcript.path)
        lab = golden.name.removesuffix(".transcript")
        own = transcript.header.facts.stack
        roles = roles_of(transcript)
        for stack in stacks:
            if len(roles) > 2:
                cells.append(Cell(lab, golden, stack, None, reason=MANY_HOSTS))
            elif stack == own:
                cells.append(Cell(lab, golden, stack, golden, roles=roles))
            else:
                cells.append(_other_stack(lab, golden, stack, own, update))
                cells[-1].roles = roles
    return cells


def _other_stack(lab: str, golden: Path, stack: str, own: str, update: bool) -> Cell:
    """The stack's own recording beside the golden, else the golden with a note."""
    own_file = golden.parent / "stacks" / stack / golden.name
    if own_file.exists():
        files.read(own_file)  # a damaged one is bad input, before anything runs
        return Cell(lab, golden, stack, own_file)
    whose = f"the {own} one" if own else "the given one"
    note = f"no {stack} recording; compared with {whose}"
    return Cell(lab, golden, stack, golden, [note], new_file=own_file if update else None)


@dataclass(frozen=True)
class Child:
    """How a cell's child is started: argv before the transcript, options after `--host NODE`."""

    argv: list[str]
    options: list[str]
    update: bool


class Children:
    """The running children, so Ctrl-C can stop them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self.stopping = False

    def run(self, argv: list[str]) -> tuple[int, str, str] | None:
        """Run one child to its end: (exit status, stdout, stderr); None once stopping."""
        with self._lock:
            if self.stopping:
                return None
            # Its own session: a terminal's Ctrl-C reaches the parent only, which stops the
            # children itself, each once.
            child = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True,
            )  # fmt: skip
            self._running.add(child)
        try:
            out, err = child.communicate()
        finally:
            with self._lock:
                self._running.discard(child)
        return child.returncode, out, err

    def stop(self) -> None:
        """SIGINT to each child (its teardown runs), SIGKILL to those still there after GRACE."""
        with self._lock:
            self.stopping = True
            running = list(self._running)
        for child in running:
            _signal(child, signal.SIGINT)
        deadline = time.monotonic() + GRACE
        for child in running:
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(child, signal.SIGKILL)


def _signal(child: subprocess.Popen[str], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(child.pid, sig)


def run(cells: list[Cell], stacks: Sequence[str], jobs: int, child: Child, say: Say) -> None:
    """Run every cell that runs, on nodes of its stack, at most `jobs` at once, over
    ceil(jobs / stacks) nodes per stack, each leased for the run (no other command runs a lab
    there meanwhile); the nodes made for it are taken down at the end."""
    per_stack = min(math.ceil(jobs / len(stacks)), stack_list.MAX_NODES)
    gate = threading.Semaphore(jobs)
    children = Children()
    workers: list[threading.Thread] = []
    with ExitStack() as leased:
        try:
            with _sigterm_interrupts():
                for stack in stacks:  # the first stack's labs run while the next one's come up
                    mine = [c for c in cells if c.stack == stack and c.reference is not None]
                    for pair in (False, True):  # one-host labs on its nodes, two on its pair
                        queue = deque(c for c in mine if bool(c.roles) == pair)
                        if not queue:
                            continue
                        slots = _slots(leased, stack, pair, min(per_stack, len(queue)), say)
                        if isinstance(slots, str):
                            for cell in queue:
                                cell.state, cell.reason = FAILED, slots
                            continue
                        for slot in slots:
                            work = (slot, queue, gate, child, children, say)
                            thread = threading.Thread(target=_worker, args=work, daemon=True)
                            workers.append(thread)
                            thread.start()
                for worker in workers:
                    while worker.is_alive():
                        worker.join(0.2)
        except BaseException:
            children.stop()
            for worker in workers:
                worker.join()
            raise


def _slots(
    leased: ExitStack, stack: str, pair: bool, count: int, say: Say
) -> list[tuple[str, ...]] | str:
    """Where the stack's labs run, leased until `leased` closes (which takes down what was made
    now): `count` nodes, or with pair its pair (node1, node2); what cannot be had is the one
    line its cells fail with."""
    from generator.hosts import stack_leases

    try:
        if pair:
            return [tuple(leased.enter_context(stack_leases.leased_pair(stack, say)).values())]
        return [
            (node,) for node in leased.enter_context(stack_leases.leased_nodes(stack, count, say))
        ]
    except UserError as exc:
        return f"no {stack} node: {exc.message}"


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM as Ctrl-C while the matrix runs: the children stop and the nodes come down."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _worker(
    slot: tuple[str, ...],
    queue: deque[Cell],
    gate: threading.Semaphore,
    child: Child,
    children: Children,
    say: Say,
) -> None:
    """One node's loop: the next cell of its stack, one at a time, while any is left."""
    while not children.stopping:
        with gate:
            try:
                cell = queue.popleft()
            except IndexError:
                return
            _run_cell(cell, slot, child, children)
        if children.stopping:
            return
        say(f"{cell.lab} on {cell.node}: {describe(cell)} ({cell.seconds:.1f} s)")


def _run_cell(cell: Cell, slot: tuple[str, ...], child: Child, children: Children) -> None:
    assert cell.reference is not None
    cell.node = " and ".join(slot)
    # A two-host lab's roles go to the pair's nodes in order: docker-node1=debian-13-node1, ...
    hosts = [f"{r}={n}" for r, n in zip(cell.roles, slot, strict=True)] if cell.roles else slot
    target = cell.reference
    scratch = None
    if child.update and cell.new_file is not None:
        # The stack's first recording: the golden copied beside where it goes, replayed there
        # with --update (re-recorded whole, since its facts name another stack), then renamed.
        scratch = cell.new_file.with_name(f".{cell.new_file.name}.new")
        scratch.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cell.reference, scratch)
        target = scratch
    update = ["--update", "--stack-golden"] if child.update else []
    argv = [*child.argv, str(target), *(f"--host={host}" for host in hosts)]
    argv += [*child.options, *update]
    started = time.monotonic()
    try:
        done = children.run(argv)
        cell.seconds = time.monotonic() - started
        if done is None or children.stopping:
            cell.state, cell.reason = NOT_RUN, "interrupted"
            return
        _judge(cell, *done)
        if scratch is not None and cell.report is not None and cell.report.get("updated"):
            os.replace(scratch, cell.new_file or scratch)
            cell.report["path"] = str(cell.new_file)
        if cell.report is not None and cell.report.get("updated"):
            cell.written = cell.new_file if scratch is not None else target
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)


def _judge(cell: Cell, code: int, out: str, err: str) -> None:
    """The cell's state from the child's exit status and JSON report."""
    if code in (0, 1):
        try:
            report = json.loads(out)["transcripts"][0]
            ok = bool(report["ok"])
        except (ValueError, KeyError, IndexError, TypeError):
            cell.state, cell.reason = FAILED, "no report: " + (_last_line(err) or out[-200:])
            return
        cell.report = report
        cell.state = HOLDS if ok else DRIFTS
        return
    cell.state = FAILED
    cell.reason = _last_line(err) or f"exit status {code}"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].removeprefix("recipe: ") if lines else ""


def describe(cell: Cell) -> str:
    """The cell in a few words: holds, drifts (2 steps), not run (why), failed: why."""
    report = cell.report or {}
    updated = ", updated" if report.get("updated") else ""
    if cell.state == HOLDS:
        return HOLDS + updated
    if cell.state == DRIFTS:
        steps = len(report.get("drifts", []))
        parts = [f"{steps} step{'s' if steps != 1 else ''}"] if steps else []
        parts += ["observed state"] * bool(report.get("state"))
        parts += ["reachability"] * bool(report.get("reach"))
        count = len(report.get("problems", []))
        parts += [f"{count} problem{'s' if count != 1 else ''}"] * bool(count)
        return f"drifts ({', '.join(parts)}){updated}"
    if cell.state == FAILED:
        return f"failed: {cell.reason}"
    return f"not run ({cell.reason})"
