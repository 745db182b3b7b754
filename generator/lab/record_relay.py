"""The relay of `recipe record`: bytes from the person's terminal to the session's pty and back,
as pexpect's interact() does, plus the signals of the whole recording.

The person's terminal is put in raw mode, so every key (Ctrl-C, Ctrl-D, arrows) reaches the
session's own terminal as a byte and its line discipline and readline handle it as in any shell:
a Ctrl-C interrupts the running command, never recipe. A SIGINT that reaches recipe some other way
(`kill -INT`) is passed on as that Ctrl-C while the session runs. SIGTERM and SIGHUP end the
session; the recording is still saved and the teardown still runs (generator/lab/record_session.py).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import termios
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

from generator.shell.record_pty import RawPty

_TICK = 0.2  # how often the loop looks at signals that arrived while select() waited
_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGWINCH)


@dataclass
class Signals:
    """What arrived, noted by the handlers; acted on by the loop and the session around it."""

    relaying: bool = False  # a session runs: SIGINT is the person's Ctrl-C for it
    interrupts: int = 0  # SIGINTs to pass on as Ctrl-C
    stop: int | None = None  # what ends the recording: SIGTERM, SIGHUP (SIGINT when no session)
    resized: bool = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGWINCH:
            self.resized = True
        elif signum == signal.SIGINT and self.relaying:
            self.interrupts += 1
        elif self.stop is None:
            self.stop = signum

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handlers for the whole recording: recipe never dies of a signal halfway, so the
        script, the transcript and the teardown always happen."""
        old = {signum: signal.signal(signum, self.handle) for signum in _HANDLED}
        try:
            yield
        finally:
            for signum, handler in old.items():
                signal.signal(signum, handler)


def window_size(fd: int) -> tuple[int, int]:
    """(rows, columns) of the terminal on fd; 24x80 when it cannot say."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return 24, 80
    return size.lines or 24, size.columns or 80


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """The person's terminal in raw mode, restored however the session ends."""
    old = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):  # a terminal that hung up has nothing to restore
            termios.tcsetattr(fd, termios.TCSADRAIN, old)


def relay(
    pty: RawPty,
    shown: Callable[[bytes], None],
    typed: Callable[[bytes], None],
    signals: Signals,
    fd_in: int = 0,
) -> None:
    """Move bytes both ways until the session's bash ends or a signal ends the recording.
    Every byte the session prints goes to `shown` (the marker splitter) and to our stdout; every
    byte typed (or a SIGINT passed on as Ctrl-C) to `typed` as well as to the session."""
    terminal = True  # our stdout still takes output; after a hang-up it may not
    signals.relaying = True
    try:
        while signals.stop is None:
            _pass_signals(pty, signals, typed, fd_in)
            try:
                ready, _, _ = select.select([pty.fileno(), fd_in], [], [], _TICK)
            except InterruptedError:
                continue
            if pty.fileno() in ready:
                try:
                    data = pty.read_ready()
                except EOFError:
                    return
                shown(data)
                terminal = terminal and _show(data)
            if fd_in in ready and not _type(pty, typed, fd_in):
                signals.stop = signals.stop or signal.SIGHUP  # our terminal went away
    finally:
        signals.relaying = False


def _pass_signals(
    pty: RawPty, signals: Signals, typed: Callable[[bytes], None], fd_in: int
) -> None:
    if signals.interrupts:
        count, signals.interrupts = signals.interrupts, 0
        typed(b"\x03" * count)
        pty.write(b"\x03" * count)
    if signals.resized:
        signals.resized = False
        pty.resize(*window_size(fd_in))


def _type(pty: RawPty, typed: Callable[[bytes], None], fd_in: int) -> bool:
    """Pass what the person typed; False when their terminal is gone."""
    try:
        data = os.read(fd_in, 4096)
    except OSError:
        return False
    if not data:
        return False
    typed(data)
    pty.write(data)
    return True


def _show(data: bytes) -> bool:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(1, view) :]
    except OSError:
        return False
    return True
