"""A Markdown tutorial as a script the runner runs: one step per command a reader types, a
container session (`docker attach`, `docker exec -it`, `docker run -it`) as one interactive step
whose lines are the commands typed into it, across blocks, and the page's output on every step
(`Expectation.shown`) for the reader's comparison.

A reader goes on after a command fails, so every step accepts any exit status unless the page
says otherwise (`<!-- recipe: expect-fail -->`); whether the output holds is judged against the
page (page_check.py). The cleanup the tutorial does itself is its teardown.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from generator.errors import UserError
from generator.lab import script as script_format
from generator.lab.steps import Interactive, Script, Step
from generator.lab.tutorial_outside import lab_names, needs_internet
from generator.transcript.expectation import Expectation, Shown
from generator.tutorial import annotation as notes
from generator.tutorial.console import host_prompt, opens_session
from generator.tutorial.model import Block, Command, Tutorial
from generator.visible import shown

_CLEANUP_HEADING = re.compile(
    r"\b(clean(ing)?[\s-]*up|cleanup|tear(ing)?[\s-]*down|remove)\b", re.I
)
_REMOVAL = re.compile(
    r"^(sudo\s+)?(docker\s+(container\s+|network\s+|volume\s+)?(rm|stop|kill|prune|rmi)\b"
    r"|docker\s+(system|container|network|volume)\s+prune\b|ip\s+(netns\s+)?(del|delete)\b"
    r"|ip\s+link\s+(del|delete)\b|brctl\s+delbr\b|ovs-vsctl\s+del-br\b)"
)
# The host of the steps no `<!-- recipe: on ROLE -->` names, when some do.
MAIN_ROLE = "main"
# Image options whose next word is a name, not the image: `--name alpine` stays.
_NAMED = frozenset({"--name", "--hostname", "-h", "--network", "--net", "--network-alias"})


@dataclass
class _Session:
    """An open container session: the step that opened it and the lines typed since."""

    opener: Command
    block: Block
    phase: str
    lines: list[Command] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def to_script(tutorial: Tutorial, images: tuple[tuple[str, str], ...] = ()) -> Script:
    known = lab_names(c.text for b in tutorial.blocks for c in b.commands)
    teardown_from = _teardown_start(tutorial.blocks)
    steps: list[Step] = []
    session: _Session | None = None
    for block in tutorial.blocks:
        phase = "teardown" if block.number >= teardown_from else "main"
        continues = bool(block.commands) and block.commands[0].in_session
        if session is not None and (block.detach_before or (phase == "teardown" and not continues)):
            steps.append(_session_step(session, "detach", known, images))
            session = None
        for command in block.commands:
            if session is not None and (command.in_session or command.detach):
                if command.detach or command.text.strip() in ("exit", "logout"):
                    ending = "detach" if command.detach else "exit"
                    steps.append(_session_step(session, ending, known, images, command))
                    session = None
                else:
                    session.lines.append(command)
                    session.blocks.append(block)
                continue
            if session is not None:  # the next `$ ` prompt: the reader left the session
                steps.append(_session_step(session, _natural_end(session), known, images))
                session = None
            if command.in_session or _container_prompt(command):  # no session is open here
                steps.append(_orphan_step(block, command, phase))
                continue
            if _opens(command):
                if "skip" not in block.annotations:
                    _check_attach(tutorial.source, command, known)
                session = _Session(command, block, phase)
                continue
            steps += _host_steps(tutorial.source, block, command, phase, known, images)
    if session is not None:
        steps.append(_session_step(session, _natural_end(session), known, images))
    return _numbered(tutorial, steps, images)


def _numbered(tutorial: Tutorial, steps: list[Step], images: tuple[tuple[str, str], ...]) -> Script:
    main = [s for s in steps if s.phase == "main"]
    teardown = [s for s in steps if s.phase == "teardown"]
    ordered = [replace(s, index=i) for i, s in enumerate(main + teardown, start=1)]
    roles = tuple(dict.fromkeys(s.host for s in ordered if s.host and s.host != MAIN_ROLE))
    return Script(
        hosts=(MAIN_ROLE, *roles) if roles else (),
        steps=tuple(ordered[: len(main)]),
        teardown=tuple(ordered[len(main) :]),
        sha256=hashlib.sha256(tutorial.text.encode()).hexdigest(),
        source=tutorial.source,
        tutorial=True,
        images=images,
    )


def _container_prompt(command: Command) -> bool:
    """A line shown at a container's prompt (`/ # `, `root@3f2a1b9c0d4e:/# `), not the host's."""
    prompt = command.prompt.strip()
    return command.shown is not None and prompt not in ("", "#") and not host_prompt(prompt + " ")


def _opens(command: Command) -> bool:
    return command.shown is not None and opens_session(command.text)


def _teardown_start(blocks: tuple[Block, ...]) -> int:
    """The first block of the tutorial's own cleanup: annotated, under a "Clean up" heading, or
    the trailing blocks that only remove things."""
    for block in blocks:
        if "teardown" in block.annotations or _CLEANUP_HEADING.search(block.heading):
            return block.number
    start = len(blocks) + 1
    for block in reversed(blocks):
        if not block.commands or not all(_removes(c) for c in block.commands):
            break
        start = block.number
    return start


def _removes(command: Command) -> bool:
    """Whether every command of it removes something; a line typed in a container never does
    (the host's teardown must not run it)."""
    if command.in_session:
        return False
    if command.shown is not None:
        return bool(_REMOVAL.match(command.text.strip()))
    lines = [line.strip() for line in command.text.splitlines()]
    kept = [line for line in lines if line and not line.startswith("#")]
    return bool(kept) and all(_REMOVAL.match(line) for line in kept)


def _expect(block: Block, shown: tuple[Shown, ...]) -> Expectation:
    status: int | str = "any"
    if "expect-fail" in block.annotations:
        status = "nonzero"
    exit_value = notes.value(block.annotations, "expect-exit")
    if exit_value:
        status = int(exit_value)
    return Expectation(status, shown=shown)


def _shown(block: Block, command: Command, output: str | None = None, skip: str = "") -> Shown:
    compare = "ignore-output" not in block.annotations
    return Shown(block.number, command.line, command.text, output, compare, skip)


def _common(block: Block, phase: str) -> dict[str, object]:
    timeout = notes.value(block.annotations, "timeout")
    return {
        "phase": phase,
        "host": notes.value(block.annotations, "on") or None,
        "timeout": float(timeout) if timeout else None,
        "explanation": block.explanation,
    }


def _skip_reason(block: Block, command: str, known: frozenset[str]) -> str | None:
    skip = notes.value(block.annotations, "skip")
    if skip is not None:
        return "the page marks it <!-- recipe: skip -->" + (f" ({skip})" if skip else "")
    outside = needs_internet(command, known)
    return f"outside the lab: {outside}" if outside else None


def _host_steps(
    source: str,
    block: Block,
    command: Command,
    phase: str,
    known: frozenset[str],
    images: tuple[tuple[str, str], ...],
) -> list[Step]:
    """One step per command; a bash block's text is split into its whole commands."""
    if command.shown is None:
        pieces = script_format.commands_in(command.text, command.line, source)
    else:
        pieces = [(command.line, command.text)]
    steps = []
    for line, text in pieces:
        one = replace(command, text=text, line=line)
        skip = _skip_reason(block, text, known)
        shown = (_shown(block, one, command.shown, skip or ""),)
        steps.append(
            Step(
                index=0,
                command=with_images(text, images),
                expect=_expect(block, shown),
                line=line,
                skip=skip,
                **_common(block, phase),  # type: ignore[arg-type]
            )
        )
    return steps


def _orphan_step(block: Block, command: Command, phase: str) -> Step:
    """A container prompt's line after its session ended: never run on the host, only shown."""
    why = f"typed in a container ({command.prompt.strip()}) whose session is not open here"
    return Step(
        index=0,
        command=command.text,
        expect=_expect(block, (_shown(block, command, command.shown, why),)),
        line=command.line,
        skip=why,
        **_common(block, phase),  # type: ignore[arg-type]
    )


def _natural_end(session: _Session) -> str:
    """How a reader leaves a session at the next host prompt: detach from an attached or
    `run -it` shell (exit would stop the container), exit an `exec`'s."""
    return "exit" if " exec " in f" {session.opener.text} " else "detach"


def _session_step(
    session: _Session,
    ending: str,
    known: frozenset[str],
    images: tuple[tuple[str, str], ...],
    closer: Command | None = None,
) -> Step:
    block = session.block
    opener = session.opener
    typed = list(zip(session.lines, session.blocks, strict=True))
    skips = [_skip_reason(b, c.text, known) for c, b in typed]
    shown = [_shown(block, opener, opener.shown)]
    shown += [_shown(b, c, c.shown, why or "") for (c, b), why in zip(typed, skips, strict=True)]
    if closer is not None and not closer.detach:
        shown.append(_shown(block, closer, closer.shown))
    lines = tuple(c.text for (c, _), why in zip(typed, skips, strict=True) if not why)
    attach = _is_attach(opener.text) or ending == "detach"
    if attach and ending == "exit":
        lines += ("exit",)  # the page stops the attached shell; the driver would only detach
    spawn = with_images(opener.text, images)
    heredoc = "\n".join(lines)
    return Step(
        index=0,
        command=f"{spawn} <<'EOF'\n{heredoc}\nEOF" if lines else spawn,
        expect=_expect(block, tuple(shown)),
        line=opener.line,
        interactive=Interactive(spawn=spawn, lines=lines, attach=attach),
        skip=_skip_reason(block, opener.text, known),
        **_common(block, session.phase),  # type: ignore[arg-type]
    )


def _check_attach(source: str, command: Command, known: frozenset[str]) -> None:
    """An attach to a container the tutorial never starts would wait on nothing."""
    if not _is_attach(command.text):
        return
    name = command.text.split()[-1]
    if name not in known:
        raise UserError(
            f"{source}:{command.line}: docker attach {shown(name)}: no container of that name is "
            f"started in the tutorial; start it first (docker run -dit --name {shown(name)}"
            " ...) or mark the block <!-- recipe: skip -->"
        )


def _is_attach(command: str) -> bool:
    return bool(re.search(r"\bdocker\s+(container\s+)?attach\b", command))


def with_images(command: str, images: tuple[tuple[str, str], ...]) -> str:
    """The command with each tutorial image FROM (`alpine`, `alpine:3.19`) replaced by the local
    image TO, as a whole word and never as the value of --name and the like; every other byte
    stays as typed."""
    if not images or "docker" not in command:
        return command
    mapping = dict(images)
    out = []
    last = 0
    previous = ""
    for token in re.finditer(r"\S+", command):
        word = token.group()
        base = re.split(r"[:@]", word, maxsplit=1)[0]
        if base in mapping and previous not in _NAMED:
            out += [command[last : token.start()], mapping[base]]
            last = token.end()
        previous = word
    return "".join(out) + command[last:]
