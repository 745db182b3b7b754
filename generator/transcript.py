"""The transcript format: what a run did, step by step, as plain text that diffs well in git.

Written incrementally: the header, then one record per step in a single write each, then the
result. A run writes to `PATH.partial` and renames it to PATH once the result is in, so PATH is
always whole; a crash leaves `PATH.partial`, which still reads back, marked incomplete.
docs/transcript-format.md describes the format for people and for other tools.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError
from generator.script import Expectation
from generator.shell.base import FACT_NAMES, HostFacts

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


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


def check_destination(path: Path, chosen: bool = True) -> None:
    """Fail now, with one line, if a transcript could not be written to PATH: a run checks this
    before it builds the lab, since a lab built for a transcript that cannot be saved is lost
    work. Creates PATH's missing directories; leaves no file behind. `chosen`: PATH came from
    --record (else it is the default under transcripts/)."""
    partial = partial_path(path)
    option = "--record" if chosen else "transcript"
    if chosen:
        fix = "give --record a file in a directory you can write, or --no-record"
    else:
        fix = "run where you can write, or give --record PATH or --no-record"
    if path.is_dir():
        example = path / "lab.transcript"
        raise UserError(f"{option} {path}: is a directory; name a file in it, e.g. {example}")
    if path.exists() and not path.is_file():
        # os.replace would put the transcript in place of a device or a FIFO.
        raise UserError(f"{option} {path}: exists and is not a regular file; {fix}")
    if partial.is_dir():
        raise UserError(f"{option} {path}: {partial} is a directory; remove it or {fix}")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{option} {path}: {parent} is not a directory; {fix}")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot create {parent}: {exc.strerror}; {fix}") from None
    existed = os.path.lexists(partial)  # a crashed run's partial is kept until it is replaced
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644))
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot write {partial}: {exc.strerror}; {fix}") from None
    if not existed:
        os.unlink(partial)


class Recorder:
    """Appends to `PATH.partial` as the run goes; finish() renames it to PATH.

    Each piece is one write(2) on an O_APPEND descriptor, so a crash between writes leaves
    whole records behind and a crash during one leaves at most one cut-off record at the end,
    which the reader drops and reports as truncated.
    """

    def __init__(self, path: Path, header: Header) -> None:
        self.path = path
        self.partial = partial_path(path)
        check_destination(path)
        try:
            self._fd: int | None = os.open(
                self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644
            )
        except OSError as exc:
            raise UserError(f"cannot write transcript {self.partial}: {exc.strerror}") from None
        self._write(format_header(header))

    def _write(self, text: str) -> None:
        if self._fd is None:
            raise ValueError(f"transcript {self.path} is already finished")
        data = text.encode("utf-8", errors="replace")
        while data:
            data = data[os.write(self._fd, data) :]

    def step(self, record: StepRecord) -> None:
        self._write(format_step(record))

    def finish(self, outcome: Outcome) -> Path:
        """Write the result, make it durable, and move the file to its final name."""
        self._write(format_outcome(outcome))
        assert self._fd is not None
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        os.replace(self.partial, self.path)
        return self.path

    @property
    def finished(self) -> bool:
        return self._fd is None


# ---- reading -------------------------------------------------------------------------------


def read(path: Path) -> Transcript:
    """Read a transcript (or a `.partial` one a crash left behind)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    return parse(text, str(path))


def read_header(path: Path) -> Header:
    """Only the header, from the start of the file: enough to know how to compare the rest."""
    try:
        with path.open("rb") as stream:
            data = b""
            while b"\n\n" not in data and (chunk := stream.read(1 << 16)):
                data += chunk
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript {path}: {exc.strerror or exc}") from None
    text = data.partition(b"\n\n")[0].decode("utf-8", errors="replace") + "\n"
    return _Reader(text, str(path)).opening()


def parse(text: str, source: str = "<transcript>") -> Transcript:
    return _Reader(text, source).transcript()


class _Reader:
    """A line cursor with errors that point at `file:line`."""

    def __init__(self, text: str, source: str) -> None:
        # Only "\n" ends a line: output may hold "\r" or form feeds, which splitlines() would split.
        self.lines = text.split("\n")
        # Every write ends with a newline, so a last line without one was cut off mid-write.
        self.cut = self.lines.pop() != ""
        self.source = source
        self.pos = 0
        self.expectations: dict[str, Expectation] = {}

    def error(self, message: str, number: int | None = None) -> TranscriptError:
        return TranscriptError(f"{self.source}:{number or self.pos}: {message}")

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
                    raise self.error(f"expected 'key: value', got {line[:60]!r}")
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
                f"transcript format version {version!r}; this recipe reads version {VERSION}", 1
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
                raise self.error(f"text after 'end transcript': {line[:60]!r}")
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
                raise self.error(f"expected 'step N' or 'result: ...', got {line[:60]!r}")
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
                raise self.error(f"unknown header field {key!r}", number)
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
        index = self.number(opening[len("step ") :], start)
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
                    raise self.error(f"unknown block {line[:-1]!r} in step {index}")
                blocks[line[:-1]] = self.block(line[:-1])
            elif sep and key == "problem":
                problems.append(value)
            elif sep and key in _STEP_FIELDS:
                fields[key] = value
            else:
                raise self.error(f"unexpected line in step {index}: {line[:60]!r}")
        return self.build_step(index, fields, blocks, tuple(problems))

    def build_step(
        self, index: int, fields: dict[str, str], blocks: dict[str, str], problems: tuple[str, ...]
    ) -> StepRecord:
        for key in ("phase", "expect", "exit", "duration", "verdict"):
            if key not in fields:
                raise self.error(f"step {index} lacks '{key}:'")
        if fields["verdict"] not in VERDICTS:
            raise self.error(
                f"step {index}: verdict {fields['verdict']!r} is not one of {VERDICTS}"
            )
        if fields["phase"] not in ("main", "teardown"):
            raise self.error(f"step {index}: phase must be main or teardown")
        try:
            expect = self.expectation(fields["expect"])
            duration = float(fields["duration"])
        except (ValueError, TypeError, AttributeError) as exc:
            raise self.error(f"step {index}: bad expect or duration: {exc}") from None
        interactive = fields.get("interactive")
        if interactive is not None:
            stdout, stderr = blocks.get("screen", ""), ""
        else:
            stdout, stderr = blocks.get("stdout", ""), blocks.get("stderr", "")
        return StepRecord(
            index=index,
            phase=fields["phase"],
            command=blocks.get("command", ""),
            expect=expect,
            exit=self.number(fields["exit"], self.pos, signed=True),
            duration=duration,
            verdict=fields["verdict"],
            explanation=blocks.get("explanation", ""),
            line=self.number(fields.get("line", "0"), self.pos),
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
            found = self.expectations[text] = Expectation.from_dict(json.loads(text))
        return found

    def outcome(self, opening: str) -> Outcome | None:
        status = opening[len("result: ") :]
        if status not in STATUSES:
            raise self.error(f"result {status!r} is not one of {STATUSES}")
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
                raise self.error(f"unexpected line in the result: {line[:60]!r}")
        try:
            duration = float(fields.get("duration", "0"))
        except ValueError:
            raise self.error("the result's duration is not a number") from None
        return Outcome(
            status=status,
            complete=fields.get("complete") == "yes",
            finished=fields.get("finished", ""),
            duration=duration,
            reason=fields.get("reason", ""),
            leftovers=tuple(leftovers),
        )

    def number(self, text: str, line: int, signed: bool = False) -> int:
        digits = text.strip().removeprefix("-") if signed else text.strip()
        if not digits.isdigit():
            raise self.error(f"expected a number, got {text[:30]!r}", line)
        return int(text)
