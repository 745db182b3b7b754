"""Export a transcript as an asciicast v2 recording (docs/recipe-run.md): one "m" marker per step
(a player's chapters), the step's explanation as a dim comment, the `user@host` prompt of the host
the step ran on with its command, then its output, paced by the durations the run measured. The
cast ends on the prompt of the last step's host, as a terminal would after the teardown.

The commands appear at once after the prompt; typing=True types them a character at a time. The
width fits the longest line (in terminal cells) within cast_layout's bounds; a longer line is left
whole and the player wraps it at the width, as a terminal does. Outputs keep their exact bytes,
as recorded; the names, commands, explanations and labels the cast adds show control characters
escaped, so a hostile transcript cannot hide or rewrite them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime

from generator.transcript.cast_layout import height, prompt, width
from generator.transcript.records import StepRecord, Transcript
from generator.visible import visible

PAUSE = 0.6  # seconds between steps, so a viewer can read what just happened
TYPE_DELAY = 0.04  # seconds per typed character ...
TYPE_MAX = 2.0  # ... but a long command is typed faster, never for longer than this
ENTER_DELAY = 0.2  # the pause before Enter, after typing
LABEL_COMMAND = 60  # characters of the command a marker label shows


@dataclass(frozen=True)
class Typed:
    """What a step puts on the screen before its output: comment lines, prompt, command lines."""

    note: tuple[str, ...]
    prompt: str
    lines: tuple[str, ...]


def _terminal(text: str) -> str:
    """A terminal moves to the line start only on \\r: recorded newlines become \\r\\n."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _typed(transcript: Transcript, step: StepRecord) -> Typed:
    command = step.interactive if step.interactive is not None else step.command
    explanation = step.explanation.split("\n") if step.explanation else []
    return Typed(
        note=tuple("# " + visible(line, one_line=True) for line in explanation),
        prompt=prompt(transcript.header.facts, step.role),
        lines=tuple(visible(line, one_line=True) for line in command.split("\n")),
    )


def _output(step: StepRecord) -> str:
    output = step.stdout + step.stderr
    return output if not output or output.endswith("\n") else output + "\n"


def label(step: StepRecord) -> str:
    """A marker's label: step number, phase and the start of the command, escaped."""
    first = (step.interactive or step.command).split("\n", 1)[0]
    if len(first) > LABEL_COMMAND:
        first = first[: LABEL_COMMAND - 1] + "…"
    return f"step {step.index} ({step.phase}): " + visible(first, one_line=True)


def _duration(seconds: float) -> float:
    # A hand-edited transcript may say nan or -1; the cast's times must never go back.
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _command(out: list[list[object]], clock: float, typed: Typed, typing: bool) -> float:
    """The prompt and command events from `clock` on; returns the time after Enter."""
    text = "\r\n> ".join(typed.lines)  # bash's continuation prompt
    if not typing:
        out.append([round(clock, 6), "o", typed.prompt + text + "\r\n"])
        return clock
    out.append([round(clock, 6), "o", typed.prompt])
    delay = min(TYPE_DELAY, TYPE_MAX / max(1, len(text)))
    for key in _keys(text):
        clock += delay
        out.append([round(clock, 6), "o", key])
    clock += ENTER_DELAY
    out.append([round(clock, 6), "o", "\r\n"])
    return clock


def _keys(text: str) -> list[str]:
    """What each key typed shows: one character, or a newline with its `> ` continuation."""
    keys, i = [], 0
    while i < len(text):
        step = 4 if text.startswith("\r\n> ", i) else 1
        keys.append(text[i : i + step])
        i += step
    return keys


def events(transcript: Transcript, *, typing: bool = False) -> list[list[object]]:
    """The [time, code, data] events: per step a marker, then what the terminal showed."""
    out: list[list[object]] = []
    clock = 0.0
    for step in transcript.steps:
        typed = _typed(transcript, step)
        out.append([round(clock, 6), "m", label(step)])
        if typed.note:
            note = "\r\n".join(typed.note)
            out.append([round(clock, 6), "o", f"\x1b[2m{note}\x1b[0m\r\n"])
        clock = _command(out, clock, typed, typing)
        clock += _duration(step.duration)
        output = _output(step)
        if output:
            out.append([round(clock, 6), "o", _terminal(output)])
        clock += PAUSE
    last = transcript.steps[-1].role if transcript.steps else None
    out.append([round(clock, 6), "o", prompt(transcript.header.facts, last)])
    return out


def _lines(transcript: Transcript) -> list[list[str]]:
    """Each step's screen lines (comment, prompt and command, output), for the size."""
    blocks = []
    for step in transcript.steps:
        typed = _typed(transcript, step)
        command = [typed.prompt + typed.lines[0], *("> " + line for line in typed.lines[1:])]
        output = _output(step).replace("\r\n", "\n").split("\n")[:-1]
        blocks.append([*typed.note, *command, *output])
    return blocks


def to_cast(transcript: Transcript, *, typing: bool = False) -> str:
    """The whole recording: a JSON header line, then one JSON event per line."""
    blocks = _lines(transcript)
    columns = width(line for block in blocks for line in block)
    header: dict[str, object] = {
        "version": 2,
        "width": columns,
        "height": height(blocks, columns),
        "title": visible(transcript.header.recipe or transcript.header.source, one_line=True),
        "env": {"SHELL": "/bin/bash", "TERM": "xterm-256color"},
    }
    try:
        started = datetime.fromisoformat(transcript.header.started)
        header["timestamp"] = int(started.timestamp())
    except ValueError:
        pass  # a hand-written start time: the timestamp is optional in asciicast v2
    lines = [json.dumps(header)]
    lines += [json.dumps(event, ensure_ascii=False) for event in events(transcript, typing=typing)]
    return "\n".join(lines) + "\n"
