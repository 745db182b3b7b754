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
    scan = _Scan(text)
    while scan.i < len(text):
        if not scan.step():
            return False
    if scan.heredocs:
        return False
    if re.search(r"(\|\||&&|\|)$", text.rstrip()):
        return False
    return not scan.depth and scan.parens <= 0


class _Scan:
    """The state of one pass over a command's text; step() reads one token."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.depth: list[str] = []  # closing keywords we still wait for
        self.heredocs: list[tuple[str, bool]] = []  # delimiters that start after the current line
        self.parens = 0
        self.word_start = True
        # Only here is `if`/`do`/`{` a keyword; in `ip netns add if` it is a name.
        self.command_position = True

    def step(self) -> bool:
        """Read the token at i; False when the text ends inside it (a quote, a heredoc)."""
        text, i = self.text, self.i
        ch = text[i]
        if ch == "\\":
            return self.skip_to(i + 2) if i + 1 < len(text) else False  # a trailing \ continues
        if ch == "'":
            end = text.find("'", i + 1)
            return end >= 0 and self.skip_to(end + 1)
        if ch == '"':
            return self.double_quoted()
        if ch == "\n":
            return self.newline()
        if ch == "#" and self.word_start:
            end = text.find("\n", i)
            self.i = len(text) if end < 0 else end
            return True
        if text.startswith("<<", i) and not text.startswith("<<<", i):
            found = HEREDOC.match(text, i)
            if found:
                self.heredocs.append((found.group(3), found.group(1) == "-"))
                return self.skip_to(found.end())
        if ch in "();&|<>":
            self.operator(ch)
        elif ch.isspace():
            self.i, self.word_start = i + 1, True
        elif self.word_start:
            self.word()
        else:
            self.i += 1
        return True

    def skip_to(self, end: int) -> bool:
        """Past a quoted or escaped piece of a word."""
        self.i, self.word_start = end, False
        return True

    def double_quoted(self) -> bool:
        text, j = self.text, self.i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return j < len(text) and self.skip_to(j + 1)

    def newline(self) -> bool:
        """A new line starts a command; the heredocs opened on the line before begin here."""
        i = self.i + 1
        self.word_start = self.command_position = True
        for word, strip_tabs in self.heredocs:
            i = _heredoc_end(self.text, i, word, strip_tabs)
            if i < 0:
                return False
        self.heredocs.clear()
        self.i = i
        return True

    def operator(self, ch: str) -> None:
        if ch == "(":
            self.parens += 1
        elif ch == ")" and not (self.depth and self.depth[-1] == "esac"):
            self.parens -= 1
        self.command_position = ch not in "<>"  # a redirection's target is a file name
        self.i, self.word_start = self.i + 1, True

    def word(self) -> None:
        found = _WORD.match(self.text, self.i)
        word = found.group(0) if found else self.text[self.i]
        if self.command_position and word in _OPENERS:
            self.depth.append(_OPENERS[word])
        elif self.command_position and word in _CLOSERS and self.depth and self.depth[-1] == word:
            self.depth.pop()
        self.command_position = self.command_position and word in _KEEP_COMMAND_POSITION
        self.i, self.word_start = self.i + len(word), False


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
