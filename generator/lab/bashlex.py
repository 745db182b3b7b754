"""Just enough of bash's grammar to split a script into the commands a person would type: when a
line ends a command (quotes closed, `if`/`case`/loops/braces ended, no `\\` continuation) and
where a heredoc's body ends. Not a bash parser: it reads what rendered labs and hand-written
scripts contain."""

from __future__ import annotations

import re

_OPENERS = {"if": "fi", "case": "esac", "do": "done", "{": "}"}
_CLOSERS = {"fi", "esac", "done", "}"}
# Reserved words after which the next word starts a command again.
_KEEP_COMMAND_POSITION = {"if", "then", "else", "elif", "do", "while", "until", "{", "!", "time"}
HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z0-9_]+)\2")


def is_complete(text: str) -> bool:
    """True when text is one or more whole shell commands: quotes, heredocs and blocks closed."""
    depth: list[str] = []  # closing keywords we still wait for
    heredocs: list[tuple[str, bool]] = []  # delimiters that start after the current line
    parens = 0
    i, n = 0, len(text)
    word_start = True
    command_position = True  # only here is `if`/`do`/`{` a keyword; `ip netns add if` is a name
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= n:
                return False  # a trailing backslash continues the line
            i, word_start = i + 2, False
            continue
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return False
            i, word_start = end + 1, False
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                return False
            i, word_start = j + 1, False
            continue
        if ch == "\n":
            i += 1
            word_start = command_position = True
            for word, strip_tabs in heredocs:
                i = _heredoc_end(text, i, word, strip_tabs)
                if i < 0:
                    return False
            heredocs.clear()
            continue
        if ch == "#" and word_start:
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("<<", i) and not text.startswith("<<<", i):
            found = HEREDOC.match(text, i)
            if found:
                heredocs.append((found.group(3), found.group(1) == "-"))
                i, word_start = found.end(), False
                continue
        if ch in "();&|<>":
            if ch == "(":
                parens += 1
            elif ch == ")" and not (depth and depth[-1] == "esac"):
                parens -= 1
            command_position = ch not in "<>"  # a redirection's target is a file name
            i, word_start = i + 1, True
            continue
        if ch.isspace():
            i, word_start = i + 1, True
            continue
        if word_start:
            m = _WORD.match(text, i)
            word = m.group(0) if m else ch
            if command_position and word in _OPENERS:
                depth.append(_OPENERS[word])
            elif command_position and word in _CLOSERS and depth and depth[-1] == word:
                depth.pop()
            command_position = command_position and word in _KEEP_COMMAND_POSITION
            i, word_start = i + len(word), False
            continue
        i += 1
    if heredocs:
        return False
    tail = text.rstrip()
    if re.search(r"(\|\||&&|\|)$", tail):
        return False
    return not depth and parens <= 0


_WORD = re.compile(r"[^\s;&|()<>'\"]+")


def _heredoc_end(text: str, i: int, word: str, strip_tabs: bool) -> int:
    """Index just past the heredoc's delimiter line, or -1 when the delimiter never comes."""
    while i <= len(text):
        end = text.find("\n", i)
        line = text[i:] if end < 0 else text[i:end]
        if (line.lstrip("\t") if strip_tabs else line) == word:
            return len(text) if end < 0 else end + 1
        if end < 0:
            return -1
        i = end + 1
    return -1
