"""The transcript format: what a run did, step by step, as plain text that diffs well in git.

Written incrementally: the header, then one record per step in a single write each, then the
result. A run writes to `PATH.RANDOM.partial`, a file of its own created exclusively, and renames
it to PATH once the result is in, so PATH is always whole; a crash leaves the `.partial` file,
which still reads back, marked incomplete.

The reader trusts nothing in the file: every number, duration, expectation and pattern is checked
as it is read, and anything wrong is a TranscriptError naming file and line, never another
exception (tests/test_transcript_property.py holds it to that).
docs/transcript-format.md describes the format for people and for other tools.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from generator import atomicfile
from generator.errors import UserError
from generator.lab.script import Expectation
from generator.transcript import redact
from generator.transcript.facts import FACT_NAMES, HostFacts
from generator.visible import shown

MAGIC = "recipe-transcript"
VERSION = 1
PARTIAL_SUFFIX = ".partial"
VERDICTS = ("ok", "expected-failure", "FAIL")
# The first problem of a step that a signal stopped (verdict FAIL): version 1 has no verdict of
# its own for it, and a new one would make older version-1 readers refuse the file.
INTERRUPTED_PROBLEM = "interrupted by "
STATUSES = ("passed", "failed", "interrupted", "incomplete")
_BLOCK = "  |"
_NO_EOL = "  \\ no newline at end"
_OUTPUT_BLOCKS = ("stdout", "stderr", "screen")
_STEP_BLOCKS = frozenset({"explanation", "command", "stdout", "stderr", "screen"})
_STEP_FIELDS = frozenset(
    {"phase", "line", "role", "expect", "interactive", "exit", "duration", "timed-out", "verdict"}
)
# The biggest transcript read: a long lab is a few MB; far more is the wrong file, and reading it
# whole would end in an out-of-memory kill.
MAX_BYTES = 128 * 1024 * 1024
_MAX_HEADER_BYTES = 1024 * 1024  # read_header stops here: a header is a few hundred bytes
# Step numbers, lines and exit statuses: ASCII digits only (str.isdigit() takes '²', which int()
# refuses), and few enough that int() never meets Python's 4,300-digit limit.
_NUMBER = re.compile(r"[0-9]{1,9}")
_SIGNED = re.compile(r"-?[0-9]{1,9}")
_EXPECT_KEYS = frozenset({"exit", "output", "no_output", "match"})
_EXIT_WORDS = ("nonzero", "any")
_LISTS = ("output", "no_output", "match")
# An expectation is an object of lists of strings, two levels; json.loads recurses once a level,
# so a line nested 100,000 deep would end in RecursionError. Deeper than this is refused first.
_MAX_DEPTH = 2
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


class TranscriptError(UserError):
    """A file that is not a transcript this version can read; the message names file and line."""


@dataclass(frozen=True)
class Header:
    recipe: str | None
    params: dict[str, str]
    script_sha256: str
    source: str
    target: str
    facts: HostFacts
    started: str  # ISO 8601, UTC
    recorder: str


@dataclass(frozen=True)
class StepRecord:
    index: int
    phase: str  # "main" or "teardown"
    command: str
    expect: Expectation
    exit: int
    duration: float
    verdict: str  # one of VERDICTS
    stdout: str = ""  # for an interactive step: the screen the person saw
    stderr: str = ""
    explanation: str = ""
    line: int = 0
    role: str | None = None
    interactive: str | None = None  # the spawned command of an interactive step
    timed_out: bool = False
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.verdict != "FAIL"

    @property
    def interrupted(self) -> bool:
        """A signal stopped this step before it finished; its output is what it had printed."""
        return (
            self.verdict == "FAIL"
            and bool(self.problems)
            and self.problems[0].startswith(INTERRUPTED_PROBLEM)
        )


@dataclass(frozen=True)
class Outcome:
    status: str  # one of STATUSES
    complete: bool  # every step of the script ran
    finished: str
    duration: float
    reason: str = ""
    leftovers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transcript:
    header: Header
    steps: tuple[StepRecord, ...]
    outcome: Outcome | None  # None: the run never finished (crash, kill, truncation)
    path: str = ""
    version: int = VERSION
    truncated: bool = False  # the file ended inside a step record, which was dropped

    @property
    def status(self) -> str:
        return self.outcome.status if self.outcome else "incomplete"

    @property
    def complete(self) -> bool:
        return self.outcome is not None and self.outcome.complete

    @property
    def main_steps(self) -> tuple[StepRecord, ...]:
        return tuple(s for s in self.steps if s.phase == "main")

    @property
    def teardown_steps(self) -> tuple[StepRecord, ...]:
        return tuple(s for s in self.steps if s.phase == "teardown")


# ---- writing -------------------------------------------------------------------------------


def _one_line(value: str) -> str:
    return " ".join(str(value).splitlines()).strip()


def _field(name: str, value: str) -> str:
    """`name: value`, or `name:` alone when empty, so no line ends in whitespace."""
    value = _one_line(value)
    return f"{name}: {value}" if value else f"{name}:"


def _block(name: str, text: str) -> list[str]:
    """`name:` then each line of text behind `  |`; exact for any text, including no final EOL.

    Commands and explanations never end in a newline (the script reader strips them), so their
    blocks carry no end-of-line marker; output blocks mark a missing final newline as diff does.
    """
    out = [f"{name}:"]
    if not text:
        return out
    exact = name in _OUTPUT_BLOCKS
    body = text.removesuffix("\n") if exact else text
    out += [f"{_BLOCK} {line}" if line else _BLOCK for line in body.split("\n")]
    if exact and not text.endswith("\n"):
        out.append(_NO_EOL)
    return out


def format_header(header: Header) -> str:
    lines = [f"{MAGIC} {VERSION}"]
    if header.recipe:
        lines.append(f"recipe: {header.recipe}")
    lines += [f"param: {k}={_one_line(v)}" for k, v in header.params.items()]
    lines += [f"script: sha256:{header.script_sha256}", f"source: {_one_line(header.source)}"]
    lines.append(f"target: {header.target}")
    lines += [_field(name, value) for name, value in header.facts.as_pairs()]
    lines += [f"started: {header.started}", f"recorder: {header.recorder}"]
    return "\n".join(lines) + "\n"


def format_step(step: StepRecord) -> str:
    lines = ["", f"step {step.index}", f"phase: {step.phase}", f"line: {step.line}"]
    if step.role:
        lines.append(f"role: {step.role}")
    lines += _block("explanation", step.explanation)
    lines += _block("command", step.command)
    lines.append("expect: " + json.dumps(step.expect.to_dict(), sort_keys=True))
    if step.interactive is not None:
        lines.append(f"interactive: {_one_line(step.interactive)}")
        lines += _block("screen", step.stdout)
    else:
        lines += _block("stdout", step.stdout)
        lines += _block("stderr", step.stderr)
    lines += [f"exit: {step.exit}", f"duration: {step.duration:.4f}"]
    if step.timed_out:
        lines.append("timed-out: yes")
    lines.append(f"verdict: {step.verdict}")
    lines += [f"problem: {_one_line(p)}" for p in step.problems]
    lines.append(f"end step {step.index}")
    return "\n".join(lines) + "\n"


def format_outcome(outcome: Outcome) -> str:
    lines = ["", f"result: {outcome.status}", f"complete: {'yes' if outcome.complete else 'no'}"]
    if outcome.reason:
        lines.append(f"reason: {_one_line(outcome.reason)}")
    lines += [f"leftover: {_one_line(item)}" for item in outcome.leftovers]
    lines += [f"finished: {outcome.finished}", f"duration: {outcome.duration:.3f}"]
    lines.append("end transcript")
    return "\n".join(lines) + "\n"


def format_transcript(transcript: Transcript) -> str:
    text = format_header(transcript.header) + "".join(format_step(s) for s in transcript.steps)
    return text + (format_outcome(transcript.outcome) if transcript.outcome else "")


def partials(path: Path) -> list[Path]:
    """The `.partial` files that runs recording to PATH have left (crashed) or are writing."""
    prefix = path.name + "."  # matched by hand: glob() would read `[` in a name as a pattern
    if not path.parent.is_dir():
        return []
    return sorted(
        p
        for p in path.parent.iterdir()
        if p.name.startswith(prefix) and p.name.endswith(PARTIAL_SUFFIX)
    )


def check_destination(path: Path, chosen: bool = True) -> None:
    """Fail now, with one line, if a transcript could not be written to PATH: a run checks this
    before it builds the lab, since a lab built for a transcript that cannot be saved is lost
    work. Creates PATH's missing directories; leaves no file behind. `chosen`: PATH came from
    --record (else it is the default under transcripts/)."""
    option = "--record" if chosen else "transcript"
    if chosen:
        fix = "give --record a file in a directory you can write, or --no-record"
    else:
        fix = "run where you can write, or give --record PATH or --no-record"
    if path.is_dir():
        example = path / "lab.transcript"
        raise UserError(f"{option} {path}: is a directory; name a file in it, e.g. {example}")
    if path.exists() and not path.is_file():
        # A rename would put the transcript in place of a device or a FIFO.
        raise UserError(f"{option} {path}: exists and is not a regular file; {fix}")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{option} {path}: {parent} is not a directory; {fix}")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot create {parent}: {exc.strerror}; {fix}") from None
    try:  # the very kind of file the recorder will create, removed at once
        atomicfile.create_temp(path, PARTIAL_SUFFIX).discard()
    except OSError as exc:
        message = f"{option} {path}: cannot write in {parent}: {exc.strerror}; {fix}"
        raise UserError(message) from None


class Recorder:
    """Appends to `PATH.RANDOM.partial` as the run goes; finish() renames it to PATH.

    The partial file is the run's own (created exclusively, never through a symlink), so two runs
    never write into one. Each piece is one write(2) on an O_APPEND descriptor, so a crash between
    writes leaves whole records behind and a crash during one leaves at most one cut-off record at
    the end, which the reader drops and reports as truncated. unique: PATH is a default name, so
    finish() never replaces a file there but takes `NAME-2.transcript`, `-3`... instead.
    redactor: the run's secrets (generator/transcript/redact.py), taken out of every piece before it is
    written; the runner judged the steps on the real output.
    """

    def __init__(
        self,
        path: Path,
        header: Header,
        unique: bool = False,
        redactor: redact.Redactor | None = None,
    ) -> None:
        self.path = path
        self.unique = unique
        self.redactor = redactor or redact.BUILTIN
        check_destination(path)
        try:
            self._temp = atomicfile.create_temp(path, PARTIAL_SUFFIX, hidden=False, append=True)
        except OSError as exc:
            raise UserError(f"cannot write transcript {path}: {exc.strerror}") from None
        self.partial = self._temp.path
        self._fd: int | None = self._temp.fd
        self._write(format_header(self.redactor.header(header)))

    def _write(self, text: str) -> None:
        if self._fd is None:
            raise ValueError(f"transcript {self.path} is already finished")
        data = text.encode("utf-8", errors="replace")
        while data:
            data = data[os.write(self._fd, data) :]

    def step(self, record: StepRecord) -> None:
        self._write(format_step(self.redactor.record(record)))

    def finish(self, outcome: Outcome) -> Path:
        """Write the result, make it durable, and move the file to its final name."""
        self._write(format_outcome(self.redactor.outcome(outcome)))
        self._fd = None
        if self.unique:
            self.path = atomicfile.commit_unique(self._temp, self.path)
        else:
            atomicfile.commit(self._temp, self.path)
        return self.path

    @property
    def finished(self) -> bool:
        return self._fd is None


# ---- reading -------------------------------------------------------------------------------


def read(path: Path) -> Transcript:
    """Read a transcript (or a `.partial` one a crash left behind)."""
    data = _read_regular(path, MAX_BYTES)
    if len(data) > MAX_BYTES:
        raise TranscriptError(
            f"{path}: larger than {MAX_BYTES >> 20} MB, which no lab's transcript is; "
            "give the transcript file itself"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    return parse(text, str(path))


def read_header(path: Path) -> Header:
    """Only the header, from the start of the file: enough to know how to compare the rest."""
    data = _read_regular(path, _MAX_HEADER_BYTES)
    text = data.partition(b"\n\n")[0].decode("utf-8", errors="replace") + "\n"
    return _Reader(text, str(path)).opening()


_KINDS = {
    stat.S_IFDIR: "directory",
    stat.S_IFIFO: "FIFO",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


def _read_regular(path: Path, limit: int) -> bytes:
    """Up to limit + 1 bytes of a regular file. Anything else is refused before it is read: a
    FIFO would wait for a writer for ever, /dev/zero never ends."""
    try:
        _check_regular(path, os.stat(path).st_mode)
        # O_NONBLOCK: if a FIFO was swapped in since the stat, open() must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    try:
        _check_regular(path, os.fstat(fd).st_mode)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(limit + 1)
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _check_regular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "special file")
        raise TranscriptError(
            f"{path} is a {kind}, not a transcript file; give a transcript written by recipe run"
        )


def parse(text: str, source: str = "<transcript>") -> Transcript:
    return _Reader(text, source).transcript()


class _Reader:
    """A line cursor with errors that point at `file:line`."""

    def __init__(self, text: str, source: str) -> None:
        # Only "\n" ends a line: output may hold "\r" or form feeds, which splitlines() would split.
        if "\0" in text:  # no recorder writes one: the file is damaged or not a transcript
            line = text.count("\n", 0, text.index("\0")) + 1
            raise TranscriptError(
                f"{source}:{line}: a NUL byte; a transcript is text, so this file is damaged or "
                "not a transcript (re-record it with recipe run)"
            )
        self.lines = text.split("\n")
        # Every write ends with a newline, so a last line without one was cut off mid-write.
        self.cut = self.lines.pop() != ""
        self.source = source
        self.pos = 0
        self.expectations: dict[str, Expectation] = {}

    def error(self, message: str, number: int | None = None) -> TranscriptError:
        return TranscriptError(f"{self.source}:{number or self.pos}: {message}")

    def field_error(self, key: str, message: str) -> TranscriptError:
        """An error at the line of field `key` of the record just read (found only on error)."""
        for number in range(self.pos - 1, -1, -1):
            line = self.lines[number]
            if line.startswith(key + ":"):
                return self.error(message, number + 1)
            if line.startswith(("step ", "result: ")):
                break
        return self.error(message)

    def next(self) -> str | None:
        if self.pos >= len(self.lines):
            return None
        self.pos += 1
        return self.lines[self.pos - 1]

    def peek(self) -> str | None:
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def pairs(self) -> Iterator[tuple[int, str, str]]:
        """`key: value` lines up to a blank line or the end of the file."""
        while (line := self.peek()) is not None and line != "":
            self.next()
            key, sep, value = line.partition(": ")
            if not sep:
                if line.endswith(":"):
                    key, value = line[:-1], ""
                else:
                    raise self.error(f"expected 'key: value', got {shown(line, quote=True)}")
            yield self.pos, key, value

    def block(self, name: str) -> str:
        # The hot loop of reading: plain list indexing, no method call per line.
        lines, start = self.lines, self.pos
        end, count = start, len(lines)
        while end < count and lines[end].startswith(_BLOCK):
            end += 1
        self.pos = end
        eol = name in _OUTPUT_BLOCKS
        if end < count and lines[end] == _NO_EOL:
            self.pos += 1
            eol = False
        if end == start:
            return ""
        cut = len(_BLOCK) + 1
        return "\n".join([line[cut:] for line in lines[start:end]]) + ("\n" if eol else "")

    def opening(self) -> Header:
        """The first line and the header."""
        first = self.next()
        if first is None or not first.startswith(MAGIC + " "):
            raise self.error(f"not a recipe transcript (the first line must be '{MAGIC} N')", 1)
        version = first[len(MAGIC) + 1 :].strip()
        if version != str(VERSION):
            raise self.error(
                f"transcript format version {shown(version, quote=True)}; this recipe reads version {VERSION}",
                1,
            )
        return self.header()

    def transcript(self) -> Transcript:
        header = self.opening()
        steps: list[StepRecord] = []
        outcome = None
        truncated = False
        while (line := self.next()) is not None:
            if line == "":
                continue
            if outcome is not None:
                raise self.error(f"text after 'end transcript': {shown(line, quote=True)}")
            if line.startswith("step "):
                step = self.step(line)
                if step is None:
                    truncated = True
                    break
                steps.append(step)
            elif line.startswith("result: "):
                outcome = self.outcome(line)
                if outcome is None:
                    truncated = True
                    break
            else:
                raise self.error(
                    f"expected 'step N' or 'result: ...', got {shown(line, quote=True)}"
                )
        truncated = truncated or (self.cut and outcome is None)
        return Transcript(header, tuple(steps), outcome, self.source, VERSION, truncated)

    def header(self) -> Header:
        values: dict[str, str] = {}
        params: dict[str, str] = {}
        known = {"recipe", "script", "source", "target", "started", "recorder", *FACT_NAMES}
        for number, key, value in self.pairs():
            if key == "param":
                name, sep, val = value.partition("=")
                if not sep:
                    raise self.error("'param:' needs name=value", number)
                params[name] = val
            elif key in known:
                values[key] = value
            else:
                raise self.error(f"unknown header field {shown(key, quote=True)}", number)
        for key in ("script", "started"):
            if key not in values:
                raise self.error(f"the header lacks '{key}:'")
        return Header(
            recipe=values.get("recipe"),
            params=params,
            script_sha256=values["script"].removeprefix("sha256:"),
            source=values.get("source", ""),
            target=values.get("target", ""),
            facts=HostFacts(**{k: values.get(k, "") for k in FACT_NAMES}),
            started=values["started"],
            recorder=values.get("recorder", ""),
        )

    def step(self, opening: str) -> StepRecord | None:
        """One step record; None when the file ends before `end step N` (a cut-off write)."""
        start = self.pos
        index = self.number(opening[len("step ") :], "step", start)
        fields: dict[str, str] = {}
        blocks: dict[str, str] = {}
        problems: list[str] = []
        closing = f"end step {index}"
        lines = self.lines
        while True:
            if self.pos >= len(lines):
                return None
            line = lines[self.pos]
            self.pos += 1
            if line == closing:
                break
            key, sep, value = line.partition(": ")
            if not sep and line.endswith(":"):
                if line[:-1] not in _STEP_BLOCKS:
                    raise self.error(
                        f"unknown block {shown(line[:-1], quote=True)} in step {index}"
                    )
                blocks[line[:-1]] = self.block(line[:-1])
            elif sep and key == "problem":
                problems.append(value)
            elif sep and key in _STEP_FIELDS:
                fields[key] = value
            else:
                raise self.error(f"unexpected line in step {index}: {shown(line, quote=True)}")
        return self.build_step(index, fields, blocks, tuple(problems))

    def build_step(
        self, index: int, fields: dict[str, str], blocks: dict[str, str], problems: tuple[str, ...]
    ) -> StepRecord:
        for key in ("phase", "expect", "exit", "duration", "verdict"):
            if key not in fields:
                raise self.error(f"step {index} lacks '{key}:'")
        if fields["verdict"] not in VERDICTS:
            raise self.error(
                f"step {index}: verdict {shown(fields['verdict'], quote=True)} is not one of {VERDICTS}"
            )
        if fields["phase"] not in ("main", "teardown"):
            raise self.error(f"step {index}: phase must be main or teardown")
        expect = self.expectation(fields["expect"])
        duration = self.duration(fields["duration"], f"step {index}")
        interactive = fields.get("interactive")
        command = blocks.get("command", "")
        if interactive is not None:
            self.check_interactive(index, interactive, command)
            stdout, stderr = blocks.get("screen", ""), ""
        else:
            stdout, stderr = blocks.get("stdout", ""), blocks.get("stderr", "")
        return StepRecord(
            index=index,
            phase=fields["phase"],
            command=command,
            expect=expect,
            exit=self.number(fields["exit"], "exit", signed=True),
            duration=duration,
            verdict=fields["verdict"],
            explanation=blocks.get("explanation", ""),
            line=self.number(fields.get("line", "0"), "line"),
            role=fields.get("role"),
            interactive=interactive,
            timed_out=fields.get("timed-out") == "yes",
            problems=problems,
            stdout=stdout,
            stderr=stderr,
        )

    def expectation(self, text: str) -> Expectation:
        """Most steps of a lab share a few expectations: decode each distinct one once."""
        found = self.expectations.get(text)
        if found is None:
            found = self.expectations[text] = self.decode_expectation(text)
        return found

    def decode_expectation(self, text: str) -> Expectation:
        """The `expect:` JSON, checked as strictly as the script reader checks its directives, so
        a runner never meets a value it cannot use (a bad regex, a fractional exit status)."""
        if _depth(text) > _MAX_DEPTH:
            raise self.field_error("expect", "expect: nested too deep; it is an object of lists")
        try:
            data = json.loads(text)
        except ValueError as exc:  # also the 4,300-digit limit of int()
            raise self.field_error("expect", f"expect: not valid JSON ({str(exc)[:80]})") from None
        if not isinstance(data, dict):
            raise self.field_error("expect", 'expect: must be a JSON object, e.g. {"exit": 0}')
        unknown = sorted(set(data) - _EXPECT_KEYS)
        if unknown:
            raise self.field_error("expect", f"expect: unknown key {shown(unknown[0], quote=True)}")
        exit_value = data.get("exit", 0)
        if not (_is_status(exit_value) or exit_value in _EXIT_WORDS):
            raise self.field_error(
                "expect",
                f"expect: exit must be a whole number from 0 or one of {_EXIT_WORDS}, "
                f"got {shown(str(exit_value), quote=True)}",
            )
        lists = {key: self.strings(data.get(key, []), key) for key in _LISTS}
        for pattern in lists["match"]:
            try:
                re.compile(pattern)
            except (re.error, RecursionError, OverflowError) as exc:
                message = f"expect: bad regex {shown(pattern, quote=True)} in match: {exc}"
                raise self.field_error("expect", message) from None
        return Expectation(exit_value, lists["output"], lists["no_output"], lists["match"])

    def strings(self, value: object, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.field_error("expect", f"expect: {key} must be a list of strings")
        return tuple(value)

    def duration(self, text: str, what: str) -> float:
        """Seconds: a finite number, 0 or more. NaN would reach a cast as invalid JSON."""
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds >= 0):
            raise self.field_error(
                "duration",
                f"{what}: duration must be seconds, 0 or more, got {shown(text, quote=True)}",
            )
        return seconds

    def check_interactive(self, index: int, spawn: str, command: str) -> None:
        """Replay reads the typed lines back out of an interactive step's command with the script
        reader; a command in which it finds no step at all would crash it."""
        from generator.lab import script as script_format

        if not spawn.strip():
            raise self.field_error("interactive", f"step {index}: 'interactive:' names no program")
        try:
            steps = script_format.parse(f"#@ interactive {spawn}\n{command}\n", "command").steps
        except UserError:
            return  # a command replay cannot use says so itself, in one line, when it is replayed
        if not steps:
            raise self.field_error(
                "interactive", f"step {index}: an interactive step with an empty command"
            )

    def outcome(self, opening: str) -> Outcome | None:
        status = opening[len("result: ") :]
        if status not in STATUSES:
            raise self.error(f"result {shown(status, quote=True)} is not one of {STATUSES}")
        fields: dict[str, str] = {}
        leftovers: list[str] = []
        while True:
            line = self.next()
            if line is None:
                return None
            if line == "end transcript":
                break
            key, sep, value = line.partition(": ")
            if key == "leftover" and sep:
                leftovers.append(value)
            elif sep and key in {"complete", "reason", "finished", "duration"}:
                fields[key] = value
            else:
                raise self.error(f"unexpected line in the result: {shown(line, quote=True)}")
        duration = self.duration(fields.get("duration", "0"), "the result")
        return Outcome(
            status=status,
            complete=fields.get("complete") == "yes",
            finished=fields.get("finished", ""),
            duration=duration,
            reason=fields.get("reason", ""),
            leftovers=tuple(leftovers),
        )

    def number(self, text: str, key: str, line: int = 0, signed: bool = False) -> int:
        if not (_SIGNED if signed else _NUMBER).fullmatch(text.strip()):
            message = f"expected a number, got {shown(text, quote=True)} ('{key}' takes up to 9 ASCII digits)"
            raise self.error(message, line) if line else self.field_error(key, message)
        return int(text)


def _is_status(value: object) -> bool:
    # bool is an int to Python, and `true` is no exit status.
    return type(value) is int and 0 <= value < 10**9


def _depth(text: str) -> int:
    """How deep JSON text nests, strings aside; counted only when it could be deep at all."""
    if text.count("[") + text.count("{") <= _MAX_DEPTH:
        return 0
    depth = deepest = 0
    for char in _JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
