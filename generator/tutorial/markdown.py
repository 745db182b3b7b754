"""Read a Markdown tutorial as people write it: fenced blocks (``` or ~~~, indented in a list
item or not), the prose and headings before them, and recipe's annotations in HTML comments.

Which blocks run: `console`, `shell-session`, `terminal` and the like are sessions (prompts,
commands, output); `bash`, `sh`, `shell`, `zsh` are commands with no output shown, unless their
lines start with a `$ ` prompt, which makes them sessions too (blog posts do that). A block with
no language runs only when it starts with a prompt. Anything else (json, yaml, text, dockerfile)
is not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from generator.errors import UserError
from generator.tutorial import annotation, console
from generator.tutorial.model import Block, Command, Tutorial
from generator.visible import shown

SESSION_LANGUAGES = frozenset(
    {"console", "shell-session", "shellsession", "sh-session", "terminal", "session", "prompt"}
)
SCRIPT_LANGUAGES = frozenset({"bash", "sh", "shell", "zsh", "ash", "shell-script", "shellscript"})
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<title>.*?)[ \t#]*$")
_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)


@dataclass
class _Fence:
    line: int  # 0-based index of the opening fence
    indent: str
    fence: str
    language: str
    body: list[tuple[int, str]]  # (0-based line index, text without the fence's indent)


def parse(text: str, source: str) -> Tutorial:
    """The tutorial's runnable blocks; a file without one, or with an unclosed fence, is a user
    error naming the file and line."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]  # CRLF pages read alike
    blocks: list[Block] = []
    prose: list[str] = []
    notes: list[str] = []
    heading = title = ""
    session = False  # a container session a block opened and did not end
    i = 0
    while i < len(lines):
        fence = _open_fence(lines[i], i)
        if fence is None:
            line = lines[i]
            found = _HEADING.match(line)
            if found:
                heading = found.group("title")
                title = title or heading
                prose = []
            elif line.lstrip().startswith("<!--"):
                i = _read_comment(lines, i, source, notes)
                continue
            else:
                prose.append(line)
            i += 1
            continue
        i = _read_fence(lines, fence, source)
        detach = session and console.detaches("\n".join(prose))
        block, session = _block(
            fence, len(blocks) + 1, prose, heading, notes, source, session and not detach
        )
        if block is not None:
            blocks.append(replace(block, detach_before=detach))
            notes = []
        prose = []
    if notes:
        at = max((i for i, line in enumerate(lines) if "recipe" in line), default=0)
        raise UserError(
            f"{source}:{at + 1}: the annotation {shown(notes[0])} comes after the last block; "
            "put it just before the block it is for"
        )
    if not blocks:
        raise UserError(
            f"{source}:1: no runnable block: recipe runs ```console blocks with `$ ` prompts "
            "and ```bash or ```sh blocks"
        )
    return Tutorial(source=source, text=text, blocks=tuple(blocks), title=title)


def _open_fence(line: str, index: int) -> _Fence | None:
    found = _FENCE.match(line)
    if not found:
        return None
    info = found.group("info")
    language = info.split()[0].strip("{}.").lower() if info.split() else ""
    return _Fence(index, found.group("indent"), found.group("fence"), language, [])


def _read_fence(lines: list[str], fence: _Fence, source: str) -> int:
    """Fill the fence's body; return the index after its closing line."""
    char, width = fence.fence[0], len(fence.fence)
    close = re.compile(rf"^[ \t]*{re.escape(char)}{{{width},}}[ \t]*$")
    for i in range(fence.line + 1, len(lines)):
        if close.match(lines[i]):
            return i + 1
        line = lines[i]
        # A list item's block indents every line; text less indented is kept as it is.
        body = line[len(fence.indent) :] if line.startswith(fence.indent) else line.lstrip()
        fence.body.append((i, body))
    raise UserError(
        f"{source}:{fence.line + 1}: the code fence {fence.fence} opened here is never closed; "
        f"add a line {fence.fence} where the block ends"
    )


def _read_comment(lines: list[str], start: int, source: str, notes: list[str]) -> int:
    """An HTML comment: a recipe annotation is kept for the next block; others are skipped."""
    text = lines[start]
    end = start
    while "-->" not in text and end + 1 < len(lines):
        end += 1
        text += "\n" + lines[end]
    if "-->" not in text and re.match(r"\s*<!--\s*recipe\b", text, re.I):
        raise UserError(
            f"{source}:{start + 1}: the annotation opened here is never closed; end it with -->"
        )
    for comment in _COMMENT.findall(text):
        notes += annotation.read(comment, source, start + 1)
    return end + 1


def _block(
    fence: _Fence,
    number: int,
    prose: list[str],
    heading: str,
    notes: list[str],
    source: str,
    session: bool,
) -> tuple[Block | None, bool]:
    texts = [body for _, body in fence.body]
    first = next((t for t in texts if t.strip()), "")
    kind = "session" if session and console.prompt_of(first) else _kind(fence.language, first)
    if kind is None:
        if notes:
            raise UserError(
                f"{source}:{fence.line + 1}: the annotation {shown(notes[0])} is for a block "
                f"recipe does not run ({fence.language or 'no language'}); put it before a "
                "console or bash block"
            )
        return None, session
    if kind == "session":
        commands, session = console.commands(fence.body, fence.indent, session)
    else:
        commands, session = _script_commands(fence), False
    if not commands:
        return None, session
    block = Block(
        number=number,
        line=fence.line + 1,
        language=fence.language or "console",
        commands=tuple(commands),
        explanation=_explanation(prose),
        annotations=tuple(notes),
        heading=heading,
    )
    return block, session


def _kind(language: str, first: str) -> str | None:
    if language in SESSION_LANGUAGES:
        return "session"
    starts_with_prompt = console.prompt_of(first) is not None and not first.startswith("# ")
    if language in SCRIPT_LANGUAGES or language == "":
        if starts_with_prompt:
            return "session"
        return "script" if language else None
    return None


def _script_commands(fence: _Fence) -> list[Command]:
    """A bash block is one text; the lab splits it into commands with its bash lexer."""
    body = [text for _, text in fence.body]
    while body and not body[-1].strip():
        body.pop()
    if not any(line.strip() and not line.strip().startswith("#") for line in body):
        return []
    end = fence.line + 1 + len(body)
    return [Command("\n".join(body), fence.line + 2, None, (end, end), "", fence.indent)]


def _explanation(prose: list[str]) -> str:
    """The paragraph just before the block, as plain text: what the author says it does."""
    paragraphs = "\n".join(prose).strip().split("\n\n")
    last = paragraphs[-1] if paragraphs else ""
    return " ".join(line.strip() for line in last.split("\n") if line.strip())
