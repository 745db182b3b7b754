"""`recipe record`: a person's interactive bash session turned into a lab script and a transcript.

In order: reach the host and snapshot its state; make the private folder and its rcfile
(generator/lab/record_side.py, record_hooks.py); relay the person's terminal to a bash in a pty
(record_relay.py) until they type `exit` or Ctrl-D; read the steps back; snapshot again and plan
the teardown of what was added (record_teardown.py); write the script (record_script.py) and the
transcript; run the teardown unless --keep, and check that nothing is left.

Whatever ends the session (exit, SIGTERM, SIGHUP, a dropped terminal), what was typed until then
is saved and the teardown runs: recipe holds SIGINT, SIGTERM and SIGHUP for the whole recording.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator import __version__, atomicfile
from generator.errors import UserError
from generator.lab import leftovers, record_hooks
from generator.lab.record_hooks import Typed
from generator.lab.record_relay import Signals, raw_mode, relay, window_size
from generator.lab.record_script import Written, check_readback, script_text
from generator.lab.record_side import LocalSide, RemoteSide, Side
from generator.lab.record_teardown import Teardown, plan
from generator.lab.runner import utc_now
from generator.lab.script import Step
from generator.lab.verdict import judge
from generator.shell.base import Shell
from generator.shell.local import LocalShell
from generator.shell.record_pty import LocalRawPty, RawPty, RecordSSHShell, ssh_shell
from generator.transcript import Header, Recorder
from generator.transcript.expectation import Expectation
from generator.transcript.facts import gather
from generator.transcript.records import Outcome, StepRecord

TEARDOWN_TIMEOUT = 60.0


@dataclass(frozen=True)
class RecordOptions:
    script: Path  # where the script goes
    script_chosen: bool  # -o named it: replace a file there; else take the next free name
    transcript: Path
    transcript_chosen: bool
    host: str | None = None
    identity: Path | None = None
    strict_host_key: bool = False
    keep: bool = False


@dataclass(frozen=True)
class Recorded:
    script: Path
    transcript: Path
    steps: int
    teardown: Teardown
    torn_down: bool
    leftovers: tuple[str, ...]
    signum: int | None
    problem: str  # the script does not read back as recorded: "" when it does

    @property
    def exit_code(self) -> int:
        if self.signum is not None:
            return 128 + self.signum
        return 1 if self.leftovers or self.problem else 0


def record(options: RecordOptions) -> Recorded:
    signals = Signals()
    with signals.installed():
        shell: Shell = _shell(options)
        with shell:
            before = leftovers.take(shell.output_of)
            if signals.stop is not None:
                raise UserError("interrupted before the session started", 128 + signals.stop)
            started, clock = utc_now(), time.monotonic()
            typed = _session(shell, options, signals)
            teardown = plan(leftovers.take(shell.output_of).added_since(before))
            run = _Run(options, shell, before, signals, clock, teardown)
            try:
                saved = _save(options, shell, typed, teardown, started)
            except BaseException:
                run.tear_down(None, len(typed))  # nothing saved: still leave nothing behind
                raise
            path, left = run.finish(saved.recorder, len(typed))
    return Recorded(
        saved.script,
        path,
        len(typed),
        teardown,
        not options.keep,
        left,
        signals.stop,
        saved.problem,
    )


@dataclass(frozen=True)
class _Saved:
    script: Path
    recorder: Recorder
    problem: str


def _save(
    options: RecordOptions, shell: Shell, typed: list[Typed], teardown: Teardown, started: str
) -> _Saved:
    """The script, and the transcript's header and main steps (its teardown steps follow)."""
    where = options.host or "local"
    written = script_text(typed, teardown, where, started)
    script = _write_script(options, written)
    problem = check_readback(written, typed, teardown)
    recorder = _recorder(options, shell, written, script, where, started)
    _record_main(recorder, typed, written)
    return _Saved(script, recorder, problem)


def _shell(options: RecordOptions) -> Shell:
    if options.host in (None, "local"):
        return LocalShell()
    return ssh_shell(options.host, options.identity, options.strict_host_key)


def _session(shell: Shell, options: RecordOptions, signals: Signals) -> list[Typed]:
    """Run the person's session; the commands they typed, with output, status and duration."""
    token = record_hooks.new_token()
    side: Side = RemoteSide(shell, token) if isinstance(shell, RecordSSHShell) else LocalSide(token)
    splitter = record_hooks.Splitter(token)
    try:
        pty = _open_pty(shell, side, window_size(0))
        _say(_START)
        try:
            with raw_mode(0):
                relay(pty, splitter.feed, splitter.typed, signals)
        finally:
            pty.close()
        entries = record_hooks.parse_entries(side.read_steps())
    finally:
        side.remove()
    return record_hooks.typed_steps(entries, splitter.segments)


_START = "recording: each command you type becomes a step; type exit or Ctrl-D to end"


def _open_pty(shell: Shell, side: Side, size: tuple[int, int]) -> RawPty:
    rows, cols = size
    rc = f"{side.folder}/{record_hooks.RC_FILE}"
    term = os.environ.get("TERM", "xterm")
    if isinstance(shell, RecordSSHShell):
        return shell.open_pty(f"bash --noprofile --rcfile {rc} -i", term, rows, cols)
    env = dict(os.environ)
    for inherited in ("PROMPT_COMMAND", "PS0", "BASH_ENV", "ENV"):
        env.pop(inherited, None)  # an exported hook of the caller's would run beside ours
    return LocalRawPty([_bash(), "--noprofile", "--rcfile", rc, "-i"], env, rows, cols)


def _bash() -> str:
    """The person's $SHELL when it is a bash, else the bash on PATH: the hooks need bash."""
    mine = os.environ.get("SHELL", "")
    if os.path.basename(mine) == "bash" and os.access(mine, os.X_OK):
        return mine
    found = shutil.which("bash")
    if found is None:
        raise UserError("recipe record needs bash; install it")
    return found


def _write_script(options: RecordOptions, written: Written) -> Path:
    data = written.text.encode("utf-8")
    try:
        if options.script_chosen:
            atomicfile.write_bytes(options.script, data)
            return options.script
        return atomicfile.write_unique(options.script, data)
    except OSError as exc:
        raise UserError(f"cannot write the script {options.script}: {exc.strerror}") from None


def _recorder(
    options: RecordOptions, shell: Shell, written: Written, script: Path, where: str, started: str
) -> Recorder:
    header = Header(
        recipe=None,
        params={},
        script_sha256=hashlib.sha256(written.text.encode()).hexdigest(),
        source=str(script),
        target=where,
        facts=gather(shell.output_of),
        started=started,
        recorder=f"recipe {__version__}",
    )
    return Recorder(options.transcript, header, unique=not options.transcript_chosen)


def _record_main(recorder: Recorder, typed: Sequence[Typed], written: Written) -> None:
    """One record per typed command: what it printed (the terminal merges stdout and stderr),
    and as its expectation what the script now expects of it."""
    for number, step in enumerate(typed, start=1):
        failed = step.exit != 0
        recorder.step(
            StepRecord(
                index=number,
                phase="main",
                command=step.command,
                expect=Expectation(step.exit),
                exit=step.exit,
                duration=step.duration,
                verdict="expected-failure" if failed else "ok",
                stdout=step.output,
                line=written.script_lines.get(number, 0),
            )
        )


@dataclass
class _Run:
    options: RecordOptions
    shell: Shell
    before: leftovers.Snapshot
    signals: Signals
    clock: float  # time.monotonic() when the session started
    teardown: Teardown

    def finish(self, recorder: Recorder, typed: int) -> tuple[Path, tuple[str, ...]]:
        """Run the teardown (unless --keep), check what is left, close the transcript."""
        left: list[tuple[str, str]] = []
        if not self.options.keep:
            self.tear_down(recorder, typed)
            left = leftovers.settled(self.before, lambda: leftovers.take(self.shell.output_of))
        names = tuple(f"{kind} {name}" for kind, name in left)
        stop = self.signals.stop
        status = "interrupted" if stop else ("failed" if names else "passed")
        reason = f"{signal.Signals(stop).name} ended the session" if stop else ""
        duration = time.monotonic() - self.clock
        outcome = Outcome(status, stop is None, utc_now(), duration, reason, names)
        return recorder.finish(outcome), names

    def tear_down(self, recorder: Recorder | None, typed: int) -> None:
        """The planned commands, exactly as the script's teardown holds them, numbered after
        every typed command (those left out of the script included)."""
        if self.options.keep:
            return
        for number, command in enumerate(self.teardown.commands, start=typed + 1):
            step = Step(number, command, expect=Expectation("any"), phase="teardown")
            result = self.shell.run(command, timeout=TEARDOWN_TIMEOUT)
            if recorder is not None:
                recorder.step(judge(step, result, TEARDOWN_TIMEOUT))


def _say(text: str) -> None:
    """One line on stderr, before the terminal turns raw (then a line would need \\r\\n)."""
    os.write(2, f"recipe: {text}\n".encode())
