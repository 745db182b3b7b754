"""The script `recipe record` writes: the typed commands as steps, in the layout of a rendered lab
(docs/script-format.md) so that `recipe run lab.sh` and `bash lab.sh` both replay it.

- A command that failed gets `#@ expect-exit N`: replay expects what happened.
- A command stopped with Ctrl-C is replayed stopped the same way, after as long as it ran:
  `timeout -s INT --preserve-status SECONDS CMD`, so `ping` prints its summary and exits as it
  did. That needs a simple command (one program and its arguments); anything else (a loop, a
  pipeline, a builtin) is written as a comment and left out of the replay.
- The teardown and the name guard come from generator/lab/record_teardown.py.
No `set -e`: the failing steps of the session must not end `bash lab.sh`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from generator import __version__
from generator.errors import UserError
from generator.lab import script as script_format
from generator.lab.record_hooks import Typed
from generator.lab.record_teardown import Teardown
from generator.visible import plural

# A program and its arguments on one line: nothing timeout(1) could not run.
_SIMPLE = re.compile(r"[^;&|(){}`\n\\]+")
_WORDS = """if then else elif fi case esac for while until do done function select time coproc
cd echo printf read wait source . eval exec exit export set unset shift trap type alias history
jobs fg bg kill test [ [[ let local declare readonly ulimit umask"""
_NOT_PROGRAMS = frozenset(_WORDS.split())  # keywords and builtins: timeout(1) cannot run them


@dataclass(frozen=True)
class Written:
    text: str
    script_lines: dict[int, int]  # typed step number (1, 2, ...) -> the line its step starts on
    left_out: tuple[int, ...]  # typed steps written as comments only


def replayable(step: Typed) -> str | None:
    """The command the script runs for a typed step; None when it cannot be replayed."""
    if not step.ran:
        return None  # a syntax error: in a script it would end bash, and the parse here
    if not step.interrupted:
        return _one_step(step.command.strip())
    if not _SIMPLE.fullmatch(step.command.strip()):
        return None
    try:
        words = shlex.split(step.command)
    except ValueError:
        return None
    if not words or words[0] in _NOT_PROGRAMS or "=" in words[0]:
        return None
    seconds = max(round(step.duration, 1), 0.1)
    return f"timeout -s INT --preserve-status {seconds:g} {step.command.strip()}"


def _one_step(command: str) -> str | None:
    """The command as one step of the script. A multi-line command that the script reader would
    cut in two (`for x in a b` with its `do` on the next line) goes in a `{ }` group, which
    bash runs in the same shell, with the same status."""
    for candidate in (command, f"{{\n{command}\n}}"):
        try:
            parsed = script_format.parse(f"#@ steps\n{candidate}\n")
        except UserError:
            continue
        if [step.command for step in parsed.steps] == [candidate]:
            return candidate
    return None


def script_text(steps: Sequence[Typed], teardown: Teardown, where: str, started: str) -> Written:
    lines = _head(where, started, len(steps))
    if teardown.guards:
        lines += ["#@ guard", "# Stop before anything changes if a name this lab creates is taken."]
        lines += [*teardown.guards, "#@ end-guard", ""]
    if teardown.commands:
        lines += _teardown(teardown)
    lines.append("#@ steps")
    starts: dict[int, int] = {}
    left_out = []
    for number, step in enumerate(steps, start=1):
        command = replayable(step)
        if command is None:
            left_out.append(number)
            lines += _left_out(step)
            continue
        lines += _directives(step)
        starts[number] = len(lines) + 1
        lines.append(command)
    return Written("\n".join(lines) + "\n", starts, tuple(left_out))


def _head(where: str, started: str, count: int) -> list[str]:
    return [
        "#!/usr/bin/env bash",
        f"# Recorded by recipe {__version__} (`recipe record`) on {where}, {started}:",
        f"# {plural(count, 'command')} as they were typed, each expected to exit as it did then.",
        "#",
        "# Run it:        bash lab.sh   (as root; it removes what it made when it ends)",
        "# Step by step:  recipe run lab.sh",
        "",
    ]


def _teardown(teardown: Teardown) -> list[str]:
    return [
        "#@ teardown",
        "# Teardown: what the session created, removed in a safe order. Each command tolerates",
        "# what is gone already, so it is safe to run twice.",
        "teardown() {",
        "  set +e",
        *(f"  {command}" for command in teardown.commands),
        "  true",
        "}",
        "trap teardown EXIT",
        "trap 'exit 130' INT",
        "trap 'exit 143' TERM",
        "#@ end-teardown",
        "",
    ]


def _directives(step: Typed) -> list[str]:
    if step.exit == 0:
        return []
    return [f"#@ expect-exit {step.exit}"]


def _left_out(step: Typed) -> list[str]:
    # The next step would take a comment here as its explanation: say whose it is.
    if not step.ran:
        why = f"bash could not read it (exit {step.exit})"
    elif step.interrupted:
        why = f"stopped with Ctrl-C, exit {step.exit}"
    else:
        why = f"the script reader cannot hold it, exit {step.exit}"
    head = f"(not replayed: typed in the session; {why})"
    return [f"# {head}", *(f"#   {line}" for line in step.command.split("\n"))]


def check_readback(written: Written, steps: Sequence[Typed], teardown: Teardown) -> str:
    """Read the script back as `recipe run` will: "" when it holds the same steps and teardown,
    else what differs (the script is kept all the same: it is the person's work)."""
    try:
        parsed = script_format.parse(written.text, source="the recorded script")
    except UserError as exc:
        return exc.message
    expected = [replayable(steps[n - 1]) for n in sorted(written.script_lines)]
    got = [step.command for step in parsed.steps]
    if got != expected:
        return "its commands do not read back as the same steps (see docs/record.md, limits)"
    if tuple(step.command for step in parsed.teardown) != teardown.commands:
        return "its teardown does not read back as written"
    return ""
