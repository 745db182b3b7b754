"""The reader's comparison: does what a command printed look like what the page shows?

As a reader compares, not as diff does:
- volatile values (ids, MACs, times, RTTs, veth names, ifindexes) are normalized, each side by
  its own Normalizer kept for the whole tutorial, so `docker run -d`'s id and `docker ps`'s
  short id bind the same placeholder on each side; addresses are compared as written, since a
  reader types the address the page shows into the next command;
- table column padding and trailing spaces are ignored, and blank lines around the output;
- a `...` line on the page stands for any number of lines;
- JSON is compared as data: every key the page shows must be there with an equal value; keys
  only the run printed (a newer Docker added them) are listed as new, not counted as drift;
- with `--image FROM=TO`, the run's TO reads as the page's FROM.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.compare.normalize import Normalizer
from generator.compare.pairing import Pairs

ELLIPSIS = frozenset({"...", "…", "[...]", "[..]"})
MAX_DIFF = 40


@dataclass(frozen=True)
class Reading:
    holds: bool
    diff: tuple[str, ...] = ()  # page `-`, run `+`, of the normalized texts
    new_keys: tuple[str, ...] = ()  # JSON paths only the run printed


class ReaderComparison:
    """One tutorial's comparisons, in the order its commands ran."""

    def __init__(self, images: Mapping[str, str] | None = None) -> None:
        self.page = Normalizer()
        self.run = Normalizer()
        self.pairs = Pairs()
        self.images = [
            (re.compile(rf"(?<![\w./-]){re.escape(local)}(?![\w/-])"), source)
            for source, local in (images or {}).items()
        ]

    def compare(self, shown: str, actual: str) -> Reading:
        actual = self._as_page_images(actual)
        data = _json_pair(shown, actual)
        if data is not None:
            new: list[str] = []
            different: list[str] = []
            self._data(data[0], data[1], "", new, different)
            return Reading(not different, tuple(different[:MAX_DIFF]), tuple(new))
        page = _lines(self.page.text(shown))
        run = _lines(self.run.text(actual))
        if _matches([_flat(x) for x in page], [_flat(x) for x in run], self.pairs.same):
            return Reading(True)
        run = [self.pairs.as_page(x) for x in run]
        diff = difflib.unified_diff(page, run, "page", "run", n=1, lineterm="")
        return Reading(False, tuple(list(diff)[2 : 2 + MAX_DIFF]))

    def kept(self, shown: str, actual: str) -> str:
        """What `--update` writes: the run's output, with the page's own line wherever the two
        differ only by volatile values or padding."""
        if self.compare(shown, actual).holds:
            return shown
        page_lines = shown.removesuffix("\n").split("\n")
        # The run's own padding at the end of a line is not kept: the reader ignores it.
        run_lines = [x.rstrip() for x in actual.strip("\n").split("\n")] if actual.strip() else []
        page = [_flat(self.page.text(x)) for x in page_lines]
        run = [self.pairs.as_page(_flat(self.run.text(self._as_page_images(x)))) for x in run_lines]
        out: list[str] = []
        matcher = difflib.SequenceMatcher(a=page, b=run, autojunk=False)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            if tag == "equal":
                out += page_lines[a1:a2]
            else:
                out += _elided(page_lines[a1:a2], run_lines[b1:b2])
        return "\n".join(out) + "\n" if out else ""

    def _as_page_images(self, text: str) -> str:
        for pattern, source in self.images:
            text = pattern.sub(source, text)
        return text

    def _data(self, page: Any, run: Any, path: str, new: list[str], diff: list[str]) -> None:
        if isinstance(page, dict) and isinstance(run, dict):
            self._objects(page, run, path, new, diff)
        elif isinstance(page, list) and isinstance(run, list):
            for i, item in enumerate(page):
                if i >= len(run):
                    diff.append(f"-{path}[{i}]: {_short(item)} (the run has no such item)")
                else:
                    self._data(item, run[i], f"{path}[{i}]", new, diff)
            new += [f"{path}[{i}]" for i in range(len(page), len(run))]
        elif not self.pairs.same(self._scalar(self.page, page), self._scalar(self.run, run)):
            diff += [f"-{path or '.'}: {_short(page)}", f"+{path or '.'}: {_short(run)}"]

    def _objects(
        self, page: dict[str, Any], run: dict[str, Any], path: str, new: list[str], diff: list[str]
    ) -> None:
        # Keys can be volatile too (Docker's "Containers" is keyed by container id).
        run_keys = {key: self.run.text(key) for key in run}
        used: set[str] = set()
        for key, value in page.items():
            found = self._key_for(self.page.text(key), value, run, run_keys, used)
            if found is None:
                diff.append(f"-{path}.{key}: {_short(value)} (the run has no such key)")
                continue
            used.add(found)
            self._data(value, run[found], f"{path}.{key}", new, diff)
        new += [f"{path}.{key}" for key in run if key not in used]

    def _key_for(
        self, page_key: str, value: Any, run: dict[str, Any], keys: dict[str, str], used: set[str]
    ) -> str | None:
        """The run's key for a page key: the same text, or, for a volatile key (an id), the
        unused one whose value reads most like the page's (Docker orders ids at random)."""
        candidates = [k for k in run if k not in used and self.pairs.could_pair(page_key, keys[k])]
        if len(candidates) > 1:
            saved = self.pairs.snapshot()

            def cost(key: str) -> int:
                self.pairs.same(page_key, keys[key])
                trial: list[str] = []
                self._data(value, run[key], "", [], trial)
                self.pairs.restore(saved)
                return len(trial)

            candidates.sort(key=cost)
        if not candidates:
            return None
        self.pairs.same(page_key, keys[candidates[0]])
        return candidates[0]

    @staticmethod
    def _scalar(normalizer: Normalizer, value: Any) -> str:
        return _flat(normalizer.text(value if isinstance(value, str) else json.dumps(value)))


def _json_pair(shown: str, actual: str) -> tuple[Any, Any] | None:
    """Both sides as data, when the page shows JSON (its `...` lines dropped) and the run
    printed JSON; None otherwise."""
    text = shown.strip()
    if not text.startswith(("[", "{")):
        return None
    kept = "\n".join(line for line in text.split("\n") if line.strip() not in ELLIPSIS)
    kept = re.sub(r",(\s*[}\]])", r"\1", kept)  # what a `...` line leaves behind
    try:
        return json.loads(kept), json.loads(actual)
    except ValueError:
        return None


def _elided(page: list[str], run: list[str]) -> list[str]:
    """A changed stretch, rewritten with the author's `...` kept: the page's lines before it
    become the run's first lines, those after it the run's last, and the elision stays."""
    marks = [i for i, line in enumerate(page) if line.strip() in ELLIPSIS]
    if not marks:
        return run
    before, after = page[: marks[0]], page[marks[-1] + 1 :]
    if len(before) + len(after) > len(run):
        return run
    return run[: len(before)] + [page[marks[0]]] + (run[len(run) - len(after) :] if after else [])


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _flat(line: str) -> str:
    """A line with its column padding gone: runs of blanks are one space."""
    return " ".join(line.split())


def _matches(page: list[str], run: list[str], same: Callable[[str, str], bool]) -> bool:
    """The page's lines against the run's, a `...` line standing for any number of lines
    (glob matching over lines, linear but for the backtracking a `...` needs)."""
    i = j = 0
    star = -1
    mark = 0
    while j < len(run):
        if i < len(page) and page[i] in ELLIPSIS:
            star, mark = i, j
            i += 1
        elif i < len(page) and same(page[i], run[j]):
            i += 1
            j += 1
        elif star >= 0:
            i, mark = star + 1, mark + 1
            j = mark
        else:
            return False
    while i < len(page) and page[i] in ELLIPSIS:
        i += 1
    return i == len(page)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
