"""Transcripts: the format (records.py), writing (writer.py) and reading (reader.py), with the host
facts and expectations it records, secret redaction and the cast export.

The names most callers need are here, so `from generator import transcript as tr` then
`tr.read(path)` or `tr.Recorder(...)`. Modules inside this package import from each other, never
from here.
"""

from generator.transcript.files import MAX_BYTES, read, read_header
from generator.transcript.reader import parse
from generator.transcript.records import (
    INTERRUPTED_PROBLEM,
    MAGIC,
    PARTIAL_SUFFIX,
    STATUSES,
    VERDICTS,
    Header,
    Outcome,
    StepRecord,
    Transcript,
    TranscriptError,
)
from generator.transcript.writer import (
    Recorder,
    check_destination,
    format_header,
    format_outcome,
    format_step,
    format_transcript,
    partials,
)

__all__ = [
    "INTERRUPTED_PROBLEM",
    "MAGIC",
    "MAX_BYTES",
    "PARTIAL_SUFFIX",
    "STATUSES",
    "VERDICTS",
    "Header",
    "Outcome",
    "Recorder",
    "StepRecord",
    "Transcript",
    "TranscriptError",
    "check_destination",
    "format_header",
    "format_outcome",
    "format_step",
    "format_transcript",
    "parse",
    "partials",
    "read",
    "read_header",
]
