"""What the runner tells the person watching a run, and a guard that keeps telling from ever
stopping a run."""

from __future__ import annotations

from collections.abc import Callable

from generator.lab.script import Step
from generator.transcript import StepRecord


class Listener:
    """What the runner tells the person watching (generator/lab/progress.py draws it)."""

    def step_started(self, step: Step, total: int) -> None:
        """A step is about to run."""

    def step_finished(self, record: StepRecord, total: int) -> None:
        """A step ran; record holds its verdict."""

    def note(self, message: str) -> None:
        """Something the person should know now (an interruption, the teardown starting)."""


class Guarded(Listener):
    """Progress that can never stop a run: after SIGHUP the terminal is gone and writing to it
    fails (EIO), yet the teardown must run to its end. The first failed write silences it."""

    def __init__(self, inner: Listener) -> None:
        self.inner: Listener | None = inner

    def _call(self, tell: Callable[[Listener], None]) -> None:
        if self.inner is None:
            return
        try:
            tell(self.inner)
        except OSError:
            self.inner = None

    def step_started(self, step: Step, total: int) -> None:
        self._call(lambda inner: inner.step_started(step, total))

    def step_finished(self, record: StepRecord, total: int) -> None:
        self._call(lambda inner: inner.step_finished(record, total))

    def note(self, message: str) -> None:
        self._call(lambda inner: inner.note(message))
