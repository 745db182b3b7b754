"""Read and normalize two transcripts side by side: the second one in a forked process.

Reading a transcript and normalizing its output cost about the same for either file, and neither
needs the other (each run has its own bindings). With two cores, a child process takes the
second file while this one takes the first, and a `recipe diff` of 10,000-step transcripts
takes about half the time. Small files are not worth a fork; one core gains nothing.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, NoReturn, TypeVar

from generator import transcript as tr
from generator.compare.normalize import Bindings
from generator.compare.runs import CompareOptions, NormalizedRun, StepHead, normalize_run
from generator.transcript import state_names
from generator.transcript.files import read_all

T = TypeVar("T")
WORTH_A_FORK = 256 * 1024  # bytes of transcript: below this, a fork costs more than it saves


@dataclass(frozen=True)
class LoadedRun:
    """A transcript and its normalized run. From the child, the transcript has no steps: the
    run's step heads and normalized texts are all that comparing needs."""

    transcript: tr.Transcript
    run: NormalizedRun


def load(path: Path, options: CompareOptions) -> LoadedRun:
    (transcript,) = read_all([path])  # refuses files cut off inside a record
    names = state_names.of_records(transcript.snapshots)
    return LoadedRun(transcript, normalize_run(transcript.steps, options, names))


def load_both(
    first: Path, second: Path, options: CompareOptions, parallel: bool | None = None
) -> tuple[LoadedRun, LoadedRun]:
    """Both files loaded; errors as load() raises them, the first file's first."""
    if parallel is None:
        parallel = len(os.sched_getaffinity(0)) > 1 and _size(second) >= WORTH_A_FORK
    if not parallel:
        return load(first, options), load(second, options)
    child = _Child(lambda: _light(load(second, options)))
    try:
        loaded = load(first, options)
    except BaseException:
        child.cancel()
        raise
    try:
        return loaded, _unpack(child.result())
    except ChildDied:  # killed from outside (the OOM killer, say): do its work here instead
        return loaded, load(second, options)


# What the child sends: the transcript without steps, then the run's parts. Step heads travel
# as plain tuples, which pickle several times faster than objects.
_Shipment = tuple[tr.Transcript, list[tuple[int, str, str, int]], list[str], Bindings]


def _light(loaded: LoadedRun) -> _Shipment:
    """Without the raw output, which the parent does not need and would pay to unpickle."""
    transcript, run = loaded.transcript, loaded.run
    rows = [(s.index, s.phase, s.command, s.exit) for s in transcript.steps]
    return replace(transcript, steps=()), rows, run.texts, run.bindings


def _unpack(shipment: _Shipment) -> LoadedRun:
    transcript, rows, texts, bindings = shipment
    return LoadedRun(transcript, NormalizedRun([StepHead(*row) for row in rows], texts, bindings))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # load() reports it


class ChildDied(Exception):
    """The child process ended without sending its result."""


class _Child(Generic[T]):
    """work() run in a forked child process; its result, or its error, comes back pickled."""

    def __init__(self, work: Callable[[], T]) -> None:
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(read_end)
            self._serve(work, write_end)  # never returns
        os.close(write_end)
        self.pipe = os.fdopen(read_end, "rb")

    @staticmethod
    def _serve(work: Callable[[], T], write_end: int) -> NoReturn:
        status = 0
        try:
            try:
                payload = pickle.dumps((True, work()), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - the parent raises it
                payload = _pickled_error(exc)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        except BaseException:  # noqa: BLE001 - Ctrl-C, or the parent went away
            status = 1
        os._exit(status)  # the parent's exit handlers and buffers are not the child's to run

    def result(self) -> T:
        try:
            data = self.pipe.read()
        finally:
            self.pipe.close()
            os.waitpid(self.pid, 0)
        try:
            ok, value = pickle.loads(data)
        except Exception:  # noqa: BLE001 - nothing, or half a message: it died writing
            raise ChildDied(self.pid) from None
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def cancel(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.pipe.close()
        os.waitpid(self.pid, 0)


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an error that cannot travel still says what it was
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
