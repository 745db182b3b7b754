"""Read a rendered (or hand-written) lab script back into steps with their expectations.

A step is one complete shell command: continuation lines, heredocs, loops and `{ }` groups stay
in one step. Comment lines just before a step are its explanation; `#@` lines are directives
(see docs/script-format.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

from generator.errors import UserError
from generator.lab import reach_directive
from generator.lab.bashlex import HEREDOC, is_complete
from generator.lab.reach_directive import ReachSpec
from generator.lab.steps import DEFAULT_TIMEOUT, Interactive, Script, Step
from generator.transcript.expectation import Expectation

__all__ = ["DEFAULT_TIMEOUT", "Interactive", "Script", "Step", "load", "parse"]

_SETUP_LINE = re.compile(r"(set\s+[-+]\S*(\s+\S+)*|trap\s+.*)")


def load(path: Path) -> Script:
    """Read a script file; an unreadable or binary file is a user error, not a traceback."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read script {path}: {exc.strerror or exc}") from None
    return parse(decode(data, str(path)), source=str(path))


def parse_bytes(data: bytes, source: str) -> Script:
    """A script read from stdin or a pipe: the same text checks as load()."""
    return parse(decode(data, source), source=source)


def decode(data: bytes, source: str) -> str:
    if b"\x00" in data:
        raise UserError(f"{source} is not a text script (it contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{source} is not UTF-8 text (bad byte at offset {exc.start})") from None


def parse(text: str, source: str = "<script>") -> Script:
    # Only newline ends a line for bash; splitlines() would also break at \x85 or U+2028.
    lines = text.split("\n")
    digest = hashlib.sha256(text.encode()).hexdigest()
    meta: dict[str, object] = {
        "recipe": None,
        "params": {},
        "timeout": DEFAULT_TIMEOUT,
        "hosts": (),
        "guards": {},
    }
    starts = [i for i, line in enumerate(lines) if line.strip() == "#@ steps"]
    if starts:
        prelude, body_start = lines[: starts[0]], starts[0] + 1
    else:
        prelude, body_start = [], 0
    teardown_lines = _read_prelude(prelude, meta, source)
    body = [(i + 1, lines[i]) for i in range(body_start, len(lines))]
    errexit = False
    if not starts:
        body, errexit = _skip_setup(body)
    plain = not starts and meta["recipe"] is None
    steps = _split(body, source, "main", start=1, lenient=plain and not errexit, plain=plain)
    teardown = _split(teardown_lines, source, "teardown", start=len(steps) + 1)
    return Script(
        steps=tuple(steps),
        teardown=tuple(teardown),
        recipe=meta["recipe"],  # type: ignore[arg-type]
        params=meta["params"],  # type: ignore[arg-type]
        timeout=meta["timeout"],  # type: ignore[arg-type]
        hosts=meta["hosts"],  # type: ignore[arg-type]
        sha256=digest,
        source=source,
        guards=tuple(
            (role, "\n".join(lines))
            for role, lines in meta["guards"].items()  # type: ignore[attr-defined]
        ),
        plain=plain,
        errexit=errexit,
    )


def _skip_setup(body: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], bool]:
    """A hand-written script's shebang and leading `set -e`/`trap` lines are for bash, not steps:
    `set -e` would end the persistent shell at the first expected failure. Whether they turned
    errexit on is kept: the runner then stops where bash would."""
    out = []
    leading = True
    errexit = False
    for number, line in body:
        stripped = line.strip()
        if leading and (stripped.startswith("#!") or _SETUP_LINE.fullmatch(stripped)):
            errexit = _errexit(stripped, errexit)
            continue
        if stripped and not stripped.startswith("#"):
            leading = False
        out.append((number, line))
    return out, errexit


def _errexit(line: str, now: bool) -> bool:
    """errexit after a `set` line: `set -e`, `set -euo pipefail`, `set -o errexit`, `set +e`."""
    words = line.split()
    if not words or words[0] != "set":
        return now
    for i, word in enumerate(words[1:], 1):
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in ("-o", "+o") and following == "errexit":
            now = word == "-o"
        elif re.fullmatch(r"[-+][a-zA-Z]+", word) and "e" in word:
            now = word.startswith("-")
    return now


def _read_prelude(
    prelude: list[str], meta: dict[str, object], source: str
) -> list[tuple[int, str]]:
    """Header directives, and the body of the teardown() function as (line number, text)."""
    teardown: list[tuple[int, str]] = []
    in_teardown = in_function = False
    guard: list[str] | None = None  # the lines of the guard block being read
    for number, line in enumerate(prelude, start=1):
        stripped = line.strip()
        if stripped == "#@ guard" or stripped.startswith("#@ guard on "):
            role = stripped.removeprefix("#@ guard").removeprefix(" on ").strip()
            guard = meta["guards"].setdefault(role, [])  # type: ignore[attr-defined]
        elif stripped == "#@ end-guard":
            guard = None
        elif guard is not None:
            if stripped and not stripped.startswith("#"):
                guard.append(line)
        elif stripped == "#@ teardown":
            in_teardown = True
        elif stripped == "#@ end-teardown":
            in_teardown = in_function = False
        elif in_teardown and stripped.startswith("teardown()"):
            in_function = True
        elif in_function and line.startswith("}"):
            in_function = False
        elif in_function:
            text = line.removeprefix("  ")
            if text.strip() not in {"set +e", "true", ":"}:
                teardown.append((number, text))
        elif stripped.startswith("#@ "):
            _header_directive(stripped[3:].strip(), meta, source, number)
    return teardown


def _header_directive(directive: str, meta: dict[str, object], source: str, number: int) -> None:
    name, _, value = directive.partition(" ")
    if name == "recipe":
        meta["recipe"] = value.strip()
    elif name == "param":
        key, sep, val = value.partition("=")
        if not sep:
            raise UserError(f"{source}:{number}: '#@ param' needs key=value")
        meta["params"][key.strip()] = val  # type: ignore[index]
    elif name == "timeout":
        meta["timeout"] = _seconds(value, source, number)
    elif name == "hosts":
        meta["hosts"] = tuple(value.split())
    else:
        raise UserError(f"{source}:{number}: unknown header directive '#@ {name}'")


def _seconds(value: str, source: str, number: int) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise UserError(
            f"{source}:{number}: timeout must be a positive number of seconds, got {value!r}"
        )
    return seconds


def _literal(value: str) -> str:
    """A directive's text: verbatim, or JSON-decoded when written in double quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return value
        return str(decoded)
    return value


class _Pending:
    """Comments and directives seen since the last step."""

    def __init__(self) -> None:
        self.comments: list[str] = []
        self.exit: int | str = 0
        self.output: list[str] = []
        self.no_output: list[str] = []
        self.match: list[str] = []
        self.timeout: float | None = None
        self.interactive: str | None = None
        self.prompt: str | None = None
        self.host: str | None = None
        self.snapshot: str | None = None
        self.reach: ReachSpec | None = None
        self.directed = False  # an expect directive: the step is checked strictly, plain or not

    def directive(self, text: str, source: str, number: int) -> None:
        name, _, value = text.partition(" ")
        self.directed = self.directed or name.startswith("expect-")
        if name == "expect-fail":
            self.exit = "nonzero"
        elif name == "expect-any":
            self.exit = "any"
        elif name == "expect-exit":
            if not value.strip().isdigit():
                raise UserError(f"{source}:{number}: '#@ expect-exit' needs a number")
            self.exit = int(value)
        elif name == "expect-output":
            self.output.append(_literal(value))
        elif name == "expect-no-output":
            self.no_output.append(_literal(value))
        elif name == "expect-match":
            pattern = _literal(value)
            try:
                re.compile(pattern)
            except re.error as exc:
                raise UserError(
                    f"{source}:{number}: bad regex in '#@ expect-match': {exc}"
                ) from None
            self.match.append(pattern)
        elif name == "timeout":
            self.timeout = _seconds(value, source, number)
        elif name == "interactive":
            self.interactive = value.strip()
        elif name == "prompt":
            self.prompt = _literal(value)
        elif name == "on":
            self.host = value.strip()
        elif name == "snapshot":
            self.snapshot = _literal(value) if value.strip() else ""
        elif name == "reach":
            self.reach = reach_directive.add(self.reach, value, f"{source}:{number}")
        else:
            raise UserError(f"{source}:{number}: unknown step directive '#@ {name}'")

    def step(
        self, index: int, command: str, phase: str, line: int, source: str, lenient: bool = False
    ) -> Step:
        if self.exit == "nonzero" and command.startswith("! "):
            command = command[2:]  # bash needs `!` under set -e; the runner checks the real status
        # A teardown step tolerates a lab that is already gone; the leftover check judges it.
        # So does a plain script's step without set -e and without a directive: bash goes on.
        loose = phase == "teardown" or (lenient and not self.directed)
        exit_status = "any" if loose and self.exit == 0 else self.exit
        interactive = None
        if self.interactive:
            body = _heredoc_body(command)
            if body is None:
                raise UserError(
                    f"{source}:{line}: an '#@ interactive' step must feed its lines in a heredoc"
                )
            interactive = Interactive(spawn=self.interactive, lines=tuple(body), prompt=self.prompt)
        return Step(
            index=index,
            command=command,
            explanation="\n".join(self.comments).strip(),
            expect=Expectation(
                exit_status, tuple(self.output), tuple(self.no_output), tuple(self.match)
            ),
            timeout=self.timeout,
            interactive=interactive,
            phase=phase,
            host=self.host,
            line=line,
            snapshot=self.snapshot,
            reach=self.reach,
        )


def _heredoc_body(command: str) -> list[str] | None:
    first, _, rest = command.partition("\n")
    found = HEREDOC.search(first)
    if not found:
        return None
    body = rest.split("\n")
    if body and body[-1].strip() == found.group(3):
        body = body[:-1]
    return body


LAST_STATUS = -1  # a bare `exit`: bash returns the status of the last command
_EXIT = re.compile(r"exit(?:\s+(\d{1,3}))?\s*;?")


def _split(
    lines: list[tuple[int, str]],
    source: str,
    phase: str,
    start: int,
    lenient: bool = False,
    plain: bool = False,
) -> list[Step]:
    """The steps of one phase. lenient: bash's default, a failing step does not stop the run.
    plain: a top-level `exit N` ends the main phase, as it ends a bash script."""
    steps: list[Step] = []
    pending = _Pending()
    buffer: list[str] = []
    first_line = 0
    for number, line in lines:
        stripped = line.strip()
        if not buffer:
            if not stripped:
                continue
            if stripped.startswith("#@"):
                pending.directive(stripped[2:].strip(), source, number)
                continue
            if stripped.startswith("#"):
                pending.comments.append(stripped[1:].strip())
                continue
            first_line = number
        buffer.append(line)
        command = "\n".join(buffer)
        if is_complete(command):
            step = pending.step(
                start + len(steps), command.strip(), phase, first_line, source, lenient
            )
            ends = _EXIT.fullmatch(step.command) if plain and phase == "main" else None
            if ends:  # not run: the persistent shell must live on for the teardown
                expect = step.expect if pending.directed else replace(step.expect, exit="any")
                status = int(ends[1]) & 0xFF if ends[1] else LAST_STATUS
                step = replace(step, exits=status, expect=expect)
            steps.append(step)
            pending, buffer = _Pending(), []
    if buffer:
        raise UserError(
            f"{source}:{first_line}: command never ends (an unclosed quote, heredoc or block): "
            f"{buffer[0].strip()[:60]}"
        )
    return steps


def commands_in(text: str, first_line: int, source: str) -> list[tuple[int, str]]:
    """The whole commands of a bash text (a tutorial's ```bash block), with the line each
    starts at; comments and blank lines between them are dropped."""
    lines = [(first_line + i, line) for i, line in enumerate(text.split("\n"))]
    return [(step.line, step.command) for step in _split(lines, source, "main", start=1)]
