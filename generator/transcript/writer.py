"""Writing transcripts: the text of each record, and the Recorder that appends them as a run goes.

Written incrementally: the header, then one record per step in a single write each, then the
result. A run writes to `PATH.RANDOM.partial`, a file of its own created exclusively, and renames
it to PATH once the result is in, so PATH is always whole; a crash leaves the `.partial` file,
which still reads back, marked incomplete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from generator import atomicfile
from generator.errors import UserError
from generator.transcript import redact
from generator.transcript.records import (
    BLOCK,
    MAGIC,
    NO_EOL,
    OUTPUT_BLOCKS,
    PARTIAL_SUFFIX,
    VERSION,
    Header,
    Outcome,
    ReachRecord,
    SnapshotRecord,
    StepRecord,
    Transcript,
)


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
    exact = name in OUTPUT_BLOCKS
    body = text.removesuffix("\n") if exact else text
    out += [f"{BLOCK} {line}" if line else BLOCK for line in body.split("\n")]
    if exact and not text.endswith("\n"):
        out.append(NO_EOL)
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


def format_snapshot(record: SnapshotRecord, redactor: redact.Redactor | None = None) -> str:
    """The snapshot section: where it was taken, then the state as JSON (state_json.dumps)."""
    lines = ["", f"snapshot {record.index}", f"after: {record.after_step}"]
    if record.label:
        lines.append(f"label: {_one_line(record.label)}")
    if record.role:
        lines.append(f"role: {record.role}")
    from generator.transcript import state_json  # late: render and replay without state load none

    state = state_json.dumps(state_json.to_data(record.state))
    lines += _block("state", (redactor or redact.BUILTIN).text(state))
    lines.append(f"end snapshot {record.index}")
    return "\n".join(lines) + "\n"


def format_reach(record: ReachRecord, redactor: redact.Redactor | None = None) -> str:
    """The reach section: after which step, the `#@ reach` lines, then the matrix as JSON."""
    lines = ["", f"reach {record.index}", f"after: {record.after_step}"]
    if record.role:
        lines.append(f"role: {record.role}")
    lines += [_field("directive", value) for value in record.directives]
    from generator.transcript import matrix, state_json  # late, as for the snapshots

    data = state_json.dumps(matrix.to_data(record.matrix))
    lines += _block("matrix", (redactor or redact.BUILTIN).text(data))
    lines.append(f"end reach {record.index}")
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
    """The whole file, each snapshot and matrix after the step it followed."""
    pieces = [format_header(transcript.header)]
    sections = [(r.after_step, 0, r.index, format_snapshot(r)) for r in transcript.snapshots]
    sections += [(r.after_step, 1, r.index, format_reach(r)) for r in transcript.reaches]
    pending = sorted(sections)
    for step in transcript.steps:
        while pending and pending[0][0] < step.index:
            pieces.append(pending.pop(0)[3])
        pieces.append(format_step(step))
    pieces += [section[3] for section in pending]
    return "".join(pieces) + (format_outcome(transcript.outcome) if transcript.outcome else "")


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
    redactor: the run's secrets (generator/transcript/redact.py), taken out of every piece before
    it is written; the runner judged the steps on the real output.
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

    def snapshot(self, record: SnapshotRecord) -> None:
        self._write(format_snapshot(record, self.redactor))

    def reach(self, record: ReachRecord) -> None:
        self._write(format_reach(record, self.redactor))

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
