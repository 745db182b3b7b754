"""Reading transcripts, trusting nothing in the file: every number, duration, expectation and
pattern is checked as it is read, and anything wrong is a TranscriptError naming file and line,
never another exception (tests/transcript/test_transcript_property.py holds it to that).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from generator.transcript import expect_field
from generator.transcript.expectation import Expectation
from generator.transcript.facts import FACT_NAMES, HostFacts
from generator.transcript.records import (
    BLOCK,
    MAGIC,
    NO_EOL,
    OUTPUT_BLOCKS,
    STATUSES,
    STEP_BLOCKS,
    STEP_FIELDS,
    VERDICTS,
    VERSIONS,
    Header,
    Outcome,
    ReachRecord,
    SnapshotRecord,
    StepRecord,
    Transcript,
    TranscriptError,
)
from generator.visible import shown

# Step numbers, lines and exit statuses: ASCII digits only (str.isdigit() takes '²', which int()
# refuses), and few enough that int() never meets Python's 4,300-digit limit.
_NUMBER = re.compile(r"[0-9]{1,9}")
_SIGNED = re.compile(r"-?[0-9]{1,9}")


def parse_header(text: str, source: str) -> Header:
    """The header alone, from the text before the first blank line."""
    return _Reader(text, source).opening()


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
        self.version = VERSIONS[-1]
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
        while end < count and lines[end].startswith(BLOCK):
            end += 1
        self.pos = end
        eol = name in OUTPUT_BLOCKS
        if end < count and lines[end] == NO_EOL:
            self.pos += 1
            eol = False
        if end == start:
            return ""
        cut = len(BLOCK) + 1
        return "\n".join([line[cut:] for line in lines[start:end]]) + ("\n" if eol else "")

    def opening(self) -> Header:
        """The first line and the header."""
        first = self.next()
        if first is None or not first.startswith(MAGIC + " "):
            raise self.error(f"not a recipe transcript (the first line must be '{MAGIC} N')", 1)
        version = first[len(MAGIC) + 1 :].strip()
        if version not in {str(v) for v in VERSIONS}:
            raise self.error(
                f"transcript format version {shown(version, quote=True)}; "
                f"this recipe reads versions {', '.join(map(str, VERSIONS))}",
                1,
            )
        self.version = int(version)
        return self.header()

    def transcript(self) -> Transcript:
        header = self.opening()
        steps: list[StepRecord] = []
        snapshots: list[SnapshotRecord] = []
        reaches: list[ReachRecord] = []
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
            elif self._section_here(line):
                section = self.section(line)
                if section is None:
                    truncated = True
                    break
                found = snapshots if isinstance(section, SnapshotRecord) else reaches
                found.append(section)  # type: ignore[arg-type]
            elif line.startswith("result: "):
                outcome = self.outcome(line)
                if outcome is None:
                    truncated = True
                    break
            else:
                raise self.error(
                    "expected 'step N', 'snapshot N', 'reach N' or 'result: ...', "
                    f"got {shown(line, quote=True)}"
                )
        truncated = truncated or (self.cut and outcome is None)
        return Transcript(
            header,
            tuple(steps),
            outcome,
            self.source,
            self.version,
            truncated,
            tuple(snapshots),
            tuple(reaches),
        )

    def _section_here(self, line: str) -> bool:
        return (line.startswith("snapshot ") and self.version >= 2) or (
            line.startswith("reach ") and self.version >= 3
        )

    def section(self, line: str) -> SnapshotRecord | ReachRecord | None:
        """A snapshot or reach section; None when the file ends inside it."""
        from generator.transcript import reach_section, snapshot_section  # late: render reads none

        if line.startswith("reach "):
            return reach_section.read(self, line)
        return snapshot_section.read(self, line)

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
                if line[:-1] not in STEP_BLOCKS:
                    raise self.error(
                        f"unknown block {shown(line[:-1], quote=True)} in step {index}"
                    )
                blocks[line[:-1]] = self.block(line[:-1])
            elif sep and key == "problem":
                problems.append(value)
            elif sep and key in STEP_FIELDS:
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
        if fields["verdict"] == "skipped" and self.version < 4:
            raise self.error(f"step {index}: the verdict 'skipped' needs format version 4")
        if fields["verdict"] not in VERDICTS:
            raise self.error(
                f"step {index}: verdict {shown(fields['verdict'], quote=True)} "
                f"is not one of {VERDICTS}"
            )
        if fields["phase"] not in ("main", "teardown"):
            raise self.error(f"step {index}: phase must be main or teardown")
        expect = self.expectation(fields["expect"])
        if expect.shown and self.version < 4:
            raise self.error(f"step {index}: a tutorial's shown output needs format version 4")
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
            found = self.expectations[text] = expect_field.decode(
                text, lambda m: self.field_error("expect", m)
            )
        return found

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
        """An interactive step names its program and types at least one line: replay reads the
        typed lines back out of the command, and a command of nothing but comments has none."""
        if not spawn.strip():
            raise self.field_error("interactive", f"step {index}: 'interactive:' names no program")
        lines = (line.strip() for line in command.split("\n"))
        if not any(line and not line.startswith("#") for line in lines):
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
            message = (
                f"expected a number, got {shown(text, quote=True)} "
                f"('{key}' takes up to 9 ASCII digits)"
            )
            raise self.error(message, line) if line else self.field_error(key, message)
        return int(text)
