"""A console block read as a reader reads it: prompts start commands, `> ` and trailing
backslashes continue them, and the lines up to the next prompt are the output the author saw.

Prompts as tutorials show them: `$ `, `# ` (root), `% `, `user@host:~$ `, `root@c0ffee:/# `,
`[root@host ~]# `, `(venv) $ `, and a container shell's `/ # ` or `~ # `. A bare `# ` is a
root prompt only where it cannot be a comment or output: in a block with no `$ ` prompt, or
inside a container session that a `docker attach`, `docker exec -it` or `docker run -it` opened.
"""

from __future__ import annotations

import re
import shlex
from functools import lru_cache

from generator.tutorial.model import Command

_HOST_PROMPT = re.compile(
    r"^(?P<prompt>(?:\([\w.-]+\) )?"
    r"(?:[\w.-]+@[\w.-]+(?::[^\s$#]*)? ?[$#]|\[[\w.-]+@[\w.-]+[^\]]*\][$#]|[$%❯])) (?P<rest>.*)$"
)
# A container's shell: `/ # `, `~ # `, `/app $ `, `root@3f2a1b:/# `, or the bare root `# `.
_CONTAINER_PROMPT = re.compile(r"^(?P<prompt>(?:[~/][^\s$#]*) [#$]|#) (?P<rest>.*)$")
_CONTAINER_ID_HOST = re.compile(r"^[\w.-]+@[0-9a-f]{12}\b")
_BARE = re.compile(r"^(?:\$|#|/ #|~ #)\s*$")  # a prompt with nothing typed
_DETACH = re.compile(r"ctrl\W*p\W*(?:and\W+|then\W+)?ctrl\W*q|\^P\W*\^Q", re.I)
# docker run/exec options whose value is the next word.
_VALUE_OPTIONS = frozenset(
    {
        "--name", "-e", "--env", "--env-file", "-u", "--user", "-w", "--workdir", "--network",
        "--net", "--network-alias", "-v", "--volume", "-p", "--publish", "-h", "--hostname",
        "--link", "--ip", "--ip6", "--dns", "--mount", "--entrypoint", "-l", "--label",
        "--add-host", "--restart", "--detach-keys", "-m", "--memory", "--cpus", "--cap-add",
        "--cap-drop", "--device", "--log-driver", "--log-opt", "--platform", "--pull",
        "--stop-signal", "--ulimit", "--tmpfs",
    }
)  # fmt: skip
_OPTION_TTY = re.compile(r"^-[a-zA-Z]*[it][a-zA-Z]*$")


def detaches(text: str) -> bool:
    """Whether text tells the reader to detach: `CTRL-p CTRL-q`, `Ctrl+P Ctrl+Q`, `^P^Q`."""
    return _DETACH.search(text.replace("`", "").replace("*", "")) is not None


def prompt_of(line: str, root_prompts: bool = True) -> tuple[str, str] | None:
    """(prompt, what follows it) when the line starts with a prompt, else None."""
    found = _HOST_PROMPT.match(line)
    if found and not found.group("prompt").startswith("#"):
        return found.group("prompt") + " ", found.group("rest")
    found = _CONTAINER_PROMPT.match(line)
    if found and (root_prompts or found.group("prompt") != "#"):
        return found.group("prompt") + " ", found.group("rest")
    return None


def host_prompt(prompt: str) -> bool:
    """A prompt on the host, not in a container's shell: `$ `, `user@host:~$ `. A host named by
    twelve hex digits is a container: Docker's default hostname is the container's short ID."""
    if _CONTAINER_ID_HOST.match(prompt):
        return False
    return _HOST_PROMPT.match(prompt + "x") is not None and not prompt.startswith(("/", "~", "#"))


@lru_cache(maxsize=4096)
def shell_words(command: str) -> tuple[str, ...] | None:
    """The command's words as the shell splits them, comments dropped; None when it does not
    split (an open quote). Cached: a page's command is read by several checks."""
    try:
        return tuple(shlex.split(command, comments=True))
    except ValueError:
        return None


def docker_verb(command: str) -> tuple[str, list[str]] | None:
    """(verb, the words after it) of a `docker VERB` or `docker container VERB` command, sudo
    or not; None for any other command."""
    if "docker" not in command:
        return None
    split = shell_words(command)
    if split is None:
        return None
    words = list(split)
    if words[:1] == ["sudo"]:
        words = words[1:]
    if len(words) < 2 or words[0] != "docker":
        return None
    if words[1] == "container" and len(words) > 2:
        return words[2], words[3:]
    return words[1], words[2:]


def opens_session(command: str) -> bool:
    """docker attach, docker exec -it, docker run -it: the lines after it are typed into the
    container's shell (only when the command runs in the foreground with a terminal)."""
    found = docker_verb(command)
    if found is None:
        return False
    verb, words = found
    if verb == "attach":
        return True
    if verb not in ("exec", "run"):
        return False
    flags = _options(words)
    tty = any(w in ("--tty", "--interactive") or _OPTION_TTY.match(w) for w in flags)
    detached = any(w in ("-d", "--detach") or (_OPTION_TTY.match(w) and "d" in w) for w in flags)
    return tty and not detached


def _options(words: list[str]) -> list[str]:
    """The options before the image or container: `docker run --rm busybox ls -t` has no -t."""
    found: list[str] = []
    takes_value = False
    for word in words:
        if takes_value:
            takes_value = False
        elif word.startswith("-"):
            found.append(word)
            takes_value = "=" not in word and word in _VALUE_OPTIONS
        else:
            break
    return found


def ends_session(command: str) -> bool:
    return command.strip() in ("exit", "logout")


def commands(
    body: list[tuple[int, str]], indent: str, in_session: bool = False
) -> tuple[list[Command], bool]:
    """The block's commands with their shown output, and whether a session is still open after
    it (the next block's `# ` lines then run in that container)."""
    has_host_prompt = any(_HOST_PROMPT.match(text) for _, text in body)
    found: list[Command] = []
    i = 0
    while i < len(body):
        number, text = body[i]
        root = in_session or not has_host_prompt
        prompted = prompt_of(text, root_prompts=root)
        if prompted is None or _BARE.match(text):
            if in_session and detaches(text):
                mark = (number + 1, number + 1)
                found.append(Command("", number + 1, "", mark, "", indent, True, detach=True))
                in_session = False
            i += 1
            continue
        prompt, typed = prompted
        i, typed = _continued(body, i + 1, typed)
        while i < len(body) and not body[i][1].strip():
            i += 1  # the Docker docs' style: a blank line between the command and its output
        start = i
        while i < len(body) and not _starts_command(body[i][1], in_session, has_host_prompt):
            i += 1
        end = _trim(body, start, i)
        output = "".join(body[k][1] + "\n" for k in range(start, end))
        here = in_session and not host_prompt(prompt)
        if not here:
            in_session = False
        after = body[start - 1][0] + 1 if end == start else body[start][0]
        span = (after, body[end - 1][0] + 1 if end > start else after)
        found.append(Command(typed, number + 1, output, span, prompt, indent, in_session=here))
        if here and ends_session(typed):
            in_session = False
        elif not here and opens_session(typed):
            in_session = True
    return found, in_session


def _continued(body: list[tuple[int, str]], i: int, typed: str) -> tuple[int, str]:
    """A command's continuation lines: after a trailing backslash, or shown behind bash's `> `."""
    while i < len(body):
        text = body[i][1]
        if typed.endswith("\\"):
            typed += "\n" + (text[2:] if text.startswith("> ") else text)
        elif text.startswith("> ") or text == ">":
            typed += "\n" + text[2:]
        else:
            break
        i += 1
    return i, typed


def _starts_command(text: str, in_session: bool, has_host_prompt: bool) -> bool:
    if _BARE.match(text):
        return True
    prompted = prompt_of(text, root_prompts=in_session or not has_host_prompt)
    if prompted is None:
        return in_session and detaches(text)
    return True


def _trim(body: list[tuple[int, str]], start: int, end: int) -> int:
    """The output ends before the blank lines that close the block."""
    while end > start and not body[end - 1][1].strip():
        end -= 1
    return end
