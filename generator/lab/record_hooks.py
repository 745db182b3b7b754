"""What `recipe record` puts into the interactive bash, and how it reads back what bash did.

Two channels, each doing what it is good at:

- The side channel: bash's PROMPT_COMMAND appends one record per prompt that follows a new
  history entry to `steps` in a private folder (mode 0700, made by recipe): the prompt's number,
  the exit status, the start time PS0 wrote, the end time, and the command from `history 1`
  (whole, multi-line commands included, as `lithist` keeps them), ended by a NUL, which no
  bash string can hold.
- The pty stream: PS0 (shown after a command is read, before it runs) prints an invisible
  OSC 133 `C` marker, and PROMPT_COMMAND a `D` marker with the status and the prompt's number.
  The bytes between them are the command's output as the terminal showed it. Terminals ignore
  these FinalTerm sequences (or use them to mark prompts); they are cut from what is recorded.

Each marker carries a random token, so output that merely looks like a marker (a `cat` of a
recording) cannot cut the stream. The hooks use builtins only: a step that empties PATH still
gets recorded.
"""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass

from generator.shell.pty import clean

STEPS_FILE = "steps"
RC_FILE = "rc"
START_FILE = "start"
HISTORY_FILE = "history"
# A step's output beyond this is cut (with a note): a transcript is for reading, not for a
# `cat /dev/urandom` typed by mistake.
MAX_OUTPUT = 1024 * 1024

_RC = r"""# recipe record: this session's hooks (docs/record.md). No ~/.bashrc on purpose: its
# aliases and functions would not exist when the script is replayed.
__rcp_dir={folder}
__rcp_token={token}
__rcp_n=0
__rcp_last=
HISTFILE="$__rcp_dir/{history}"
HISTCONTROL=
HISTIGNORE=
HISTTIMEFORMAT=
shopt -s cmdhist lithist
PS1='(recording) \u@\h:\w\$ '
__rcp_ps0() {{
  printf '%s' "$EPOCHREALTIME" > "$__rcp_dir/{start}"
  printf '\033]133;C;%s\007' "$__rcp_token"
}}
PS0='$(__rcp_ps0)'
__rcp_prompt() {{
  local status=$? end=$EPOCHREALTIME start= text
  __rcp_n=$((__rcp_n + 1))
  text=$(builtin history 1)
  [ -s "$__rcp_dir/{start}" ] && read -r start < "$__rcp_dir/{start}"
  if [ -n "$start" ] || [ "$text" != "$__rcp_last" ]; then
    printf '%s\t%s\t%s\t%s\t%s\0' "$__rcp_n" "$status" "$start" "$end" "$text" \
      >> "$__rcp_dir/{steps}"
  fi
  : > "$__rcp_dir/{start}"
  __rcp_last=$text
  printf '\033]133;D;%s;%s;%s\007' "$status" "$__rcp_n" "$__rcp_token"
}}
PROMPT_COMMAND=__rcp_prompt
"""


def new_token() -> str:
    return secrets.token_hex(8)


def rcfile(folder: str, token: str) -> str:
    """The rcfile bash reads instead of ~/.bashrc, for a session whose private folder is FOLDER."""
    quoted = shlex.quote(folder)
    names = {"history": HISTORY_FILE, "start": START_FILE, "steps": STEPS_FILE}
    return _RC.format(folder=quoted, token=token, **names)


@dataclass(frozen=True)
class Entry:
    """One record of the side channel: a prompt that followed a new history entry."""

    prompt: int  # the prompt's number, as the D marker carries it
    exit: int
    start: float | None  # None: the command never ran (a syntax error)
    end: float
    command: str


_HISTORY_NUMBER = re.compile(r"\A\s*\d+\*?\s\s?")


def parse_entries(data: bytes) -> list[Entry]:
    """The side channel's records; a cut-off last one (bash killed mid-write) is dropped."""
    entries = []
    for chunk in data.split(b"\0")[:-1]:
        fields = chunk.decode("utf-8", errors="replace").split("\t", 4)
        if len(fields) != 5:
            continue
        number, status, start, end, text = fields
        try:
            entry = Entry(
                int(number),
                int(status),
                float(start) if start else None,
                float(end),
                _HISTORY_NUMBER.sub("", text, count=1).strip(),
            )
        except ValueError:
            continue
        if entry.command:
            entries.append(entry)
    return entries


@dataclass
class Segment:
    """The bytes the terminal showed before one D marker: `ran` when a C marker opened them."""

    prompt: int
    exit: int
    ran: bool
    data: bytearray
    interrupted: bool = False  # the person typed Ctrl-C while the command ran


class Splitter:
    """Cuts the pty stream at this session's markers, fed piece by piece as the relay reads.

    A marker split across two reads is found whole: the tail that may start one waits for more.
    """

    def __init__(self, token: str) -> None:
        self._marker = re.compile(rb"\x1b\]133;(?:C|D;(\d+);(\d+));" + token.encode() + rb"\x07")
        self._hold = len(token) + 40  # longer than any marker
        self._pending = bytearray()
        self._current = bytearray()
        self._ran = False
        self._interrupted = False
        self.segments: list[Segment] = []

    def feed(self, data: bytes) -> None:
        self._pending += data
        while found := self._marker.search(self._pending):
            # The groups first: a match reads them from the buffer, which the del changes.
            status, number = found.group(1), found.group(2)
            self._keep(self._pending[: found.start()])
            del self._pending[: found.end()]
            if status is None:  # C: the output of a command starts after what was typed
                self._current, self._ran = bytearray(), True
                continue
            segment = Segment(int(number), int(status), self._ran, self._current, self._interrupted)
            self.segments.append(segment)
            self._current, self._ran, self._interrupted = bytearray(), False, False
        if len(self._pending) > self._hold:
            cut = len(self._pending) - self._hold
            self._keep(self._pending[:cut])
            del self._pending[:cut]

    def typed(self, data: bytes) -> None:
        """What the person typed, as the relay passes it on: a Ctrl-C while a command runs
        marks it interrupted, whatever status it then exits with (ping says 0)."""
        if self._ran and b"\x03" in data:
            self._interrupted = True

    def _keep(self, data: bytes | bytearray) -> None:
        room = MAX_OUTPUT + 1 - len(self._current)
        if room > 0:
            self._current += data[:room]


def visible(data: bytes) -> str:
    """A segment as a person reads it: escape codes gone, `\\r\\n` as `\\n`, cut at the cap."""
    text = clean(data[:MAX_OUTPUT].decode("utf-8", errors="replace"))
    if len(data) > MAX_OUTPUT:
        text += f"\n[recipe: output cut at {MAX_OUTPUT} bytes]\n"
    return text


def unrun_output(data: bytes) -> str:
    """What a command that never ran (a syntax error) printed: the segment also holds the prompt
    and the echo of the typed line, which end where readline turns bracketed paste off."""
    at = data.rfind(b"\x1b[?2004l")
    return visible(data[at + len(b"\x1b[?2004l") :]) if at >= 0 else ""


@dataclass(frozen=True)
class Typed:
    """One command the person ran, as the session saw it."""

    command: str
    output: str
    exit: int
    duration: float
    interrupted: bool = False
    ran: bool = True  # False: bash never ran it (a syntax error)


def typed_steps(entries: list[Entry], segments: list[Segment]) -> list[Typed]:
    """Each side-channel record with its output from the stream, matched by the prompt number:
    an empty line or a Ctrl-C at the prompt has a prompt but no record, so order alone would not
    pair them."""
    by_prompt = {segment.prompt: segment for segment in segments}
    steps = []
    for entry in entries:
        segment = by_prompt.get(entry.prompt)
        if segment is None:
            output = ""
        elif entry.start is not None and segment.ran:
            output = visible(bytes(segment.data))
        else:
            output = unrun_output(bytes(segment.data))
        duration = max(entry.end - entry.start, 0.0) if entry.start is not None else 0.0
        stopped = segment is not None and segment.interrupted
        ran = entry.start is not None
        steps.append(Typed(entry.command, output, entry.exit, duration, stopped, ran))
    return steps
