"""A tutorial as data: its runnable blocks, their commands and the output the page shows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One command a reader types, and what the page shows it printed.

    shown is None where the page shows no output on purpose (a `bash` or `sh` block); "" where
    a console block shows the command printing nothing. output_span is the [start, end) range of
    0-based line indices in the Markdown file that hold the shown output, so `--update` can
    replace exactly those lines; indent is the fence's indentation, which those lines carry.
    """

    text: str  # as bash runs it: `> ` continuations and backslashes joined as typed
    line: int  # 1-based line of the prompt in the Markdown file
    shown: str | None
    output_span: tuple[int, int]
    prompt: str = "$ "  # as the page shows it: "$ ", "# ", "/ # ", "root@host:~# "
    indent: str = ""
    # A line the page shows as typed inside a container's shell (after `docker attach`, `docker
    # exec -it`, `docker run -it`), not on the host.
    in_session: bool = False
    detach: bool = False  # not a command: the page says to detach here (CTRL-p CTRL-q)


@dataclass(frozen=True)
class Block:
    """A fenced code block recipe runs, with the prose before it and its annotations."""

    number: int  # 1-based among the file's fenced blocks that hold commands
    line: int  # 1-based line of the opening fence
    language: str  # the info string's first word: console, shell-session, bash, sh, ...
    commands: tuple[Command, ...]
    explanation: str = ""
    annotations: tuple[str, ...] = ()  # e.g. ("skip",), ("expect-fail",), ("on node1",)
    heading: str = ""  # the heading the block stands under
    detach_before: bool = False  # the prose before it says to detach from the open session


@dataclass(frozen=True)
class Tutorial:
    source: str
    text: str
    blocks: tuple[Block, ...]
    title: str = ""
