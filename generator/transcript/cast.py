"""Export a transcript as an asciicast v2 recording: one marker per step, then the command as
typed at a root prompt and its output, paced by the durations the run measured."""

from __future__ import annotations

import json
from datetime import datetime

from generator.transcript.records import StepRecord, Transcript

WIDTH, HEIGHT = 120, 32
PROMPT = "# "
PAUSE = 0.6  # seconds between steps, so a viewer can read what just happened


def _terminal(text: str) -> str:
    """A terminal moves to the line start only on \\r: recorded newlines become \\r\\n."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _typed(step: StepRecord) -> str:
    if step.interactive is not None:
        return PROMPT + step.interactive + "\r\n"
    lines = step.command.split("\n")
    return PROMPT + "\r\n> ".join(lines) + "\r\n"


def _label(step: StepRecord) -> str:
    first = step.command.split("\n", 1)[0]
    phase = "teardown " if step.phase == "teardown" else ""
    return f"{phase}step {step.index}: {first}"[:100]


def events(transcript: Transcript) -> list[list[object]]:
    out: list[list[object]] = []
    clock = 0.0
    for step in transcript.steps:
        out.append([round(clock, 6), "m", _label(step)])
        if step.explanation:
            note = "\r\n".join("# " + line for line in step.explanation.split("\n"))
            out.append([round(clock, 6), "o", f"\x1b[2m{note}\x1b[0m\r\n"])
        out.append([round(clock, 6), "o", _typed(step)])
        clock += step.duration
        output = step.stdout + step.stderr
        if output:
            if not output.endswith("\n"):
                output += "\n"
            out.append([round(clock, 6), "o", _terminal(output)])
        clock += PAUSE
    return out


def to_cast(transcript: Transcript) -> str:
    """The whole recording: a JSON header line, then one JSON event per line."""
    header: dict[str, object] = {
        "version": 2,
        "width": WIDTH,
        "height": HEIGHT,
        "title": transcript.header.recipe or transcript.header.source,
        "env": {"SHELL": "/bin/bash", "TERM": "xterm-256color"},
    }
    try:
        started = datetime.fromisoformat(transcript.header.started)
        header["timestamp"] = int(started.timestamp())
    except ValueError:
        pass  # a hand-written start time: the timestamp is optional in asciicast v2
    lines = [json.dumps(header)]
    lines += [json.dumps(event, ensure_ascii=False) for event in events(transcript)]
    return "\n".join(lines) + "\n"
