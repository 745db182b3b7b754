"""A tutorial step judged as a reader judges it: does what ran look like what the page shows?

One PageCheck serves a whole run, so ids and addresses bind the same placeholders from the first
command to the last on each side (compare/reader.py). A session's screen is cut into the output
of each line typed into it.
"""

from __future__ import annotations

from generator.compare.reader import ReaderComparison
from generator.lab.steps import Step
from generator.shell.base import Result
from generator.transcript.expectation import Shown

MAX_DIFF_LINES = 12


class PageCheck:
    def __init__(self, images: tuple[tuple[str, str], ...]) -> None:
        self.reader = ReaderComparison(dict(images))

    def problems(self, step: Step, result: Result) -> list[str]:
        """Every way the step's output contradicts the page, one line each (a short diff)."""
        shown = step.expect.shown
        if not shown:
            return []
        if step.interactive is not None:
            outputs = split_screen(result.stdout, [s.command for s in shown[1:]])
            pairs = list(zip(shown, [""] + outputs, strict=False))
        else:
            pairs = [(shown[0], result.stdout + result.stderr)]
        found: list[str] = []
        for item, actual in pairs:
            found += self._one(item, actual, result.exit, step)
        return found

    def _one(self, item: Shown, actual: str, status: int, step: Step) -> list[str]:
        where = f"block {item.block}, line {item.line}"
        if item.skip:
            return []
        # A reader sees a failure as the error it prints; where the page shows none, the exit
        # status says it (a session's status is its shell's, not its lines').
        failed = step.interactive is None and status != 0 and not step.expect.expects_failure
        quiet_page = item.output is None or not item.output.strip()
        status_problem = [f"{where}: exited {status}; the page shows no failure"]
        # A page that shows nothing after a command leaves its output out (`docker run -d`
        # prints an id that tutorials rarely show); only a failure then contradicts it.
        if quiet_page or not item.compare:
            return status_problem if failed and quiet_page else []
        assert item.output is not None
        reading = self.reader.compare(item.output, actual)
        if reading.holds:
            return []
        diff = [f"  {line}" for line in reading.diff[:MAX_DIFF_LINES]]
        return [f"{where}: the output differs from the page", *diff]


def split_screen(screen: str, typed: list[str]) -> list[str]:
    """The output each typed line printed in a session's screen: the text between its echo and
    the next line's, the last up to the final prompt. Lines not found print ""."""
    lines = screen.split("\n")
    found: list[int] = []
    position = 0
    for command in typed:
        first = command.split("\n", 1)[0].strip()
        hit = next(
            (i for i in range(position, len(lines)) if first and lines[i].rstrip().endswith(first)),
            None,
        )
        found.append(hit if hit is not None else -1)
        if hit is not None:
            position = hit + 1
    outputs = []
    for k, start in enumerate(found):
        if start < 0:
            outputs.append("")
            continue
        later = [i for i in found[k + 1 :] if i >= 0]
        end = later[0] if later else _last_prompt(lines, start)
        skip = start + 1 + typed[k].count("\n")
        outputs.append("".join(line + "\n" for line in lines[skip:end]))
    return outputs


def _last_prompt(lines: list[str], start: int) -> int:
    """Where the session's last output ends: before the last prompt line, which is the echo of
    the `exit` or the line the detach left."""
    for i in range(len(lines) - 1, start, -1):
        if lines[i].strip():
            return i
    return len(lines)
