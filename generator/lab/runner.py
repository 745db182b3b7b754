"""Run a script's steps in one shell: check each against its expectation, record it, and always
tear down (after success, a failed step, SIGINT, SIGTERM or SIGHUP), then look for leftovers.

Signals: SIGINT, SIGTERM and SIGHUP (the terminal closed, the SSH session dropped) become an
`Interrupted` exception, but only while a step runs in the shell (the shell stops that step and
stays usable; the stopped step is recorded as interrupted, with the output it had). Anywhere
else, and during the teardown, a signal is only noted: the current record is written whole and
the teardown is never cut short.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

from generator.lab import leftovers
from generator.lab.listener import Guarded, Listener
from generator.lab.script import Script, Step
from generator.lab.snapshots import Observer
from generator.lab.tutorial_run import TutorialRun
from generator.lab.verdict import execute, interrupted_record, judge, skipped_record, uses_docker
from generator.shell.base import Result, SessionLost, Shell, StepStopped
from generator.transcript import Outcome, Recorder, StepRecord

# SIGHUP is what a closed terminal or a dropped SSH login sends: like SIGTERM, the lab must still
# be torn down, or it stands with nobody left to remove it.
SIGNAL_NAMES: dict[int, str] = {
    signal.SIGINT: "SIGINT",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP",
}


class Interrupted(StepStopped):
    """SIGINT, SIGTERM or SIGHUP arrived while a step ran. A BaseException (StepStopped), so
    `except Exception` in a transport cannot swallow it; the shell fills in `partial`."""

    def __init__(self, signum: int) -> None:
        super().__init__(SIGNAL_NAMES.get(signum, str(signum)))
        self.signum = signum


@dataclass(frozen=True)
class RunOptions:
    keep: bool = False  # leave the lab standing: no teardown, no leftover check
    keep_going: bool = False  # go on after a step contradicts its expectation
    timeout: float | None = None  # default step timeout for this run, over the script's
    check_leftovers: bool = True
    snapshots: bool = True  # observe the hosts' state and record it (docs/state.md)


@dataclass
class Report:
    status: str  # passed | failed | interrupted
    complete: bool
    records: list[StepRecord] = field(default_factory=list)
    reason: str = ""
    leftovers: list[str] = field(default_factory=list)
    duration: float = 0.0
    signum: int | None = None
    # A plain script's own exit status, as bash would return it (its `exit N`, the step that
    # stopped it under set -e, or its last command); None: a recipe's, 0 passed and 1 failed.
    script_exit: int | None = None

    @property
    def exit_code(self) -> int:
        if self.signum is not None:
            return 128 + self.signum
        own = self.status in ("passed", "failed") and not self.leftovers
        if self.script_exit is not None and own and not self.reason.startswith("teardown step"):
            return self.script_exit
        return 0 if self.status == "passed" else 1

    @property
    def failures(self) -> list[StepRecord]:
        return [r for r in self.records if not r.passed]


def outcome_of(report: Report) -> Outcome:
    """How a run ended, as a transcript's outcome records it; finished now."""
    return Outcome(
        status=report.status,
        complete=report.complete,
        finished=utc_now(),
        duration=report.duration,
        reason=report.reason,
        leftovers=tuple(report.leftovers),
    )


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Signals:
    """SIGINT/SIGTERM handling: raise only while armed (a step runs), otherwise remember."""

    def __init__(self, on_signal: Callable[[int], None]) -> None:
        self.pending: int | None = None
        self.armed = False
        self.on_signal = on_signal
        self._old: dict[int, object] = {}

    def handler(self, signum: int, frame: FrameType | None) -> None:
        first = self.pending is None
        if first:
            self.pending = signum
        self.on_signal(signum)
        if self.armed and first:
            self.armed = False
            raise Interrupted(signum)

    def install(self) -> None:
        for signum in SIGNAL_NAMES:
            self._old[signum] = signal.signal(signum, self.handler)

    def restore(self) -> None:
        for signum, old in self._old.items():
            signal.signal(signum, old)  # type: ignore[arg-type]

    @contextmanager
    def armed_while(self) -> Iterator[None]:
        """Let a signal raise Interrupted inside the block. A signal that arrives just after it
        is only pending: the caller records the finished step, then checks `pending`."""
        if self.pending is not None:
            raise Interrupted(self.pending)
        self.armed = True
        try:
            yield
        finally:
            self.armed = False


class Runner:
    def __init__(
        self,
        script: Script,
        shell: Shell,
        options: RunOptions,
        recorder: Recorder | None = None,
        listener: Listener | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.script = script
        self.observer = observer
        self.shell = shell
        self.options = options
        self.recorder = recorder
        self.listener: Listener = Guarded(listener) if listener is not None else Listener()
        self.report = Report(status="passed", complete=False)
        self.in_teardown = False
        self.session_lost = False
        self.tutorial = TutorialRun(script, shell) if script.tutorial else None

    def timeout_for(self, step: Step) -> float:
        return step.timeout or self.options.timeout or self.script.timeout

    def run(self) -> Report:
        started = time.monotonic()
        signals = _Signals(self._signalled)
        signals.install()
        before: leftovers.Snapshot | None = None
        try:
            try:
                before = self._snapshot()
                if self.observer is not None:
                    self.observer.before()
                self._main(signals)
                if self.observer is not None:  # the lab as built, before the teardown
                    self.observer.after(self.report.records[-1].index if self.report.records else 0)
            except Interrupted as stop:
                self.report.status = "interrupted"
                self.report.signum = stop.signum
                if not self.report.reason.startswith("interrupted"):  # _main names the step
                    self.report.reason = f"interrupted by {stop}" + self._during()
            except SessionLost as lost:
                self.report.status = "incomplete"
                self.report.reason = f"lost the shell session: {lost}"
                self.session_lost = True
            except BaseException as crash:
                # A bug or a broken transport: still tear down, and say the record is partial.
                self.report.status = "incomplete"
                self.report.reason = f"recipe itself failed: {crash!r}"
                raise
            finally:
                if self.session_lost:
                    self.listener.note(
                        "cannot tear down: the session is gone; recipe clean removes the lab later"
                    )
                elif not self.options.keep:
                    self._teardown()
                    self._check_leftovers(before)
                    self._note_signal_in_teardown(signals)
                elif self.report.status == "passed":
                    self.report.reason = (
                        "kept the lab standing (--keep); remove it with recipe clean"
                    )
        finally:
            self.report.duration = time.monotonic() - started
            self._finish_transcript()
            signals.restore()
        return self.report

    def _note_signal_in_teardown(self, signals: _Signals) -> None:
        """A signal that came only during the teardown let it finish, but the run still did not
        end by itself: the status and the exit code say so (130 after Ctrl-C), not "passed"."""
        if signals.pending is None or self.report.signum is not None:
            return
        self.report.signum = signals.pending
        name = SIGNAL_NAMES.get(signals.pending, str(signals.pending))
        if self.report.status == "passed":
            self.report.status = "interrupted"
            self.report.reason = f"interrupted by {name} during the teardown, which finished"
        else:  # a failure came first: keep it as the reason, and add the signal to it
            self.report.reason += f"; then {name} during the teardown, which finished"

    def _during(self) -> str:
        done = len([r for r in self.report.records if r.phase == "main"])
        total = len(self.script.steps)
        return f" during step {done + 1} of {total}" if done < total else ""

    def _signalled(self, signum: int) -> None:
        """Runs inside the signal handler: one raw write(2), since the buffered stderr may be in
        the middle of a write that the signal interrupted (a reentrant write raises)."""
        name = SIGNAL_NAMES.get(signum, str(signum))
        if self.in_teardown:
            message = (
                f"recipe: {name}: still tearing down; {name} again is ignored until it finishes\n"
            )
        else:
            message = f"recipe: {name}: stopping, then tearing down\n"
        with contextlib.suppress(OSError):  # no stderr to tell: the teardown still runs
            os.write(2, message.encode())

    def _main(self, signals: _Signals) -> None:
        steps = self.script.steps
        for step in steps:
            if signals.pending is not None:  # arrived while the last record was written
                raise Interrupted(signals.pending)
            self.listener.step_started(step, len(steps))
            if step.exits is not None:
                self._exit(step, len(steps))
                break
            gated = self._gated(step, len(steps))
            if gated is None:
                continue
            step = gated
            timeout = self.timeout_for(step)
            started = time.monotonic()
            try:
                with signals.armed_while():
                    result = execute(self.shell, step, timeout)
            except Interrupted as stop:
                # Said before the record goes in, so it names this step, not the next.
                self.report.reason = f"interrupted by {stop}" + self._during()
                self._record(interrupted_record(step, stop, time.monotonic() - started), len(steps))
                raise
            record = self._record(self._judged(step, result, timeout), len(steps))
            if step.snapshot is not None and self.observer is not None:
                self.observer.after(step.index, step.snapshot or f"after step {step.index}")
            held = not record.passed or step.reach is None or self._reach_holds(step)
            if not record.passed or not held:
                self.report.status = "failed"
                if not self.report.reason:
                    self.report.reason = f"step {step.index} contradicted its expectation"
                if self.script.plain:  # bash under set -e returns the failing command's status
                    self.report.script_exit = record.exit if record.exit > 0 else 1
                if not self.options.keep_going and self.tutorial is None:  # a reader goes on
                    return
        else:
            if self.script.plain and self.report.script_exit is None:
                last = [r for r in self.report.records if r.phase == "main"]
                self.report.script_exit = last[-1].exit if last else 0
        self.report.complete = True
        if signals.pending is not None:  # arrived while the last record was written
            raise Interrupted(signals.pending)

    def _gated(self, step: Step, total: int) -> Step | None:
        """A tutorial's step as it may run (lines outside the lab dropped), or None when it may
        not run at all, recorded as skipped; any other step as it is."""
        if self.tutorial is None:
            return step
        if why := self.tutorial.skipped(step):
            self._record(skipped_record(step, why), total)
            return None
        return self.tutorial.narrowed(step)

    def _judged(self, step: Step, result: Result, timeout: float) -> StepRecord:
        page = self.tutorial.page if self.tutorial is not None else None
        return judge(step, result, timeout, page)

    def _exit(self, step: Step, total: int) -> None:
        """A plain script's `exit N`: recorded, never run (the teardown still needs the shell);
        the main phase ends here with that status."""
        last = [r.exit for r in self.report.records if r.phase == "main"]
        if step.exits is not None and step.exits >= 0:
            status = step.exits
        else:
            status = last[-1] if last else 0
        self._record(judge(step, Result(step.command, "", "", status, 0.0), 0.0), total)
        self.report.script_exit = status
        if status != 0 and self.report.status == "passed":
            self.report.status = "failed"
            self.report.reason = f"the script exited with status {status} (step {step.index})"

    def _reach_holds(self, step: Step) -> bool:
        """The `#@ reach` check after a step: every matrix holds, or the run fails here."""
        if self.observer is None or step.reach is None:
            return True
        found = self.observer.reach(step.index, step.reach)
        if isinstance(found, str):
            self.report.reason = (
                f"the reachability check after step {step.index} could not run: {found}"
            )
            self.listener.note(self.report.reason)
            return False
        from generator.transcript import matrix_text

        for record in found:
            self.listener.note(matrix_text.render(record.matrix))
        if all(record.matrix.holds for record in found):
            return True
        self.report.reason = f"the reachability matrix after step {step.index} does not hold"
        return False

    def _record(self, record: StepRecord, total: int) -> StepRecord:
        self.report.records.append(record)
        if self.recorder is not None:
            self.recorder.step(record)
        self.listener.step_finished(record, total)
        return record

    def _teardown(self) -> None:
        """Every teardown step runs, whatever happened before; signals are only noted now."""
        self.in_teardown = True
        steps = self.script.teardown
        if steps:
            self.listener.note("tearing down")
        for step in steps:
            self.listener.step_started(step, len(steps))
            gated = self._gated(step, len(steps))  # the page's cleanup obeys the lab rule too
            if gated is None:
                continue
            step = gated
            timeout = self.timeout_for(step)
            try:
                result = execute(self.shell, step, timeout)
            except SessionLost as lost:
                self.session_lost = True
                self.report.status = "incomplete"
                self.report.reason = f"lost the shell session during the teardown: {lost}"
                self.listener.note(self.report.reason + "; recipe clean retries it")
                return
            record = self._record(self._judged(step, result, timeout), len(steps))
            if not record.passed and self.report.status == "passed":
                self.report.status = "failed"
                self.report.reason = f"teardown step {step.index} contradicted its expectation"

    def _snapshot(self) -> leftovers.Snapshot | None:
        if self.options.keep or not self.options.check_leftovers:
            return None
        return leftovers.take(self.shell.output_of, docker=uses_docker(self.script))

    def _check_leftovers(self, before: leftovers.Snapshot | None) -> None:
        if before is None:
            return

        def take() -> leftovers.Snapshot:
            return leftovers.take(self.shell.output_of, docker=uses_docker(self.script))

        added = leftovers.settled(before, take)
        if added and self.tutorial is not None:  # a tutorial need not clean up: we do
            added = self.tutorial.safety_net(added, lambda: leftovers.settled(before, take))
            if self.tutorial.removed:
                self.listener.note(f"the safety net removed {self.tutorial.removed_text()}")
        self.report.leftovers = [f"{kind} {name}" for kind, name in added]
        if added:
            self.listener.note(
                f"LEFTOVERS after the teardown: {leftovers.describe(added)}; "
                "`recipe clean` retries the teardown"
            )
            if self.report.status == "passed":
                self.report.status = "failed"
                self.report.reason = "the teardown left things behind"

    def _finish_transcript(self) -> None:
        if self.recorder is None or self.recorder.finished:
            return
        self.recorder.finish(outcome_of(self.report))
