"""Which of the run's volatile values plays the part of which of the page's.

Each side numbers its ids, MACs and veth names in the order it meets them (normalize.py), but
the order differs: the page's author showed `docker inspect b` before `docker ps`, Docker sorts
a network's containers by their random ids. So the reader does not ask that ID#1 be ID#1: it
pairs the page's ID#1 with whichever run id stands in its place the first time, and from then
on holds both sides to that pairing, one to one, for the whole tutorial.
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\b[A-Z][A-Z0-9_]*#\d+\b")


class Pairs:
    def __init__(self) -> None:
        self.forward: dict[str, str] = {}  # page placeholder -> run placeholder
        self.back: dict[str, str] = {}

    def same(self, page: str, run: str) -> bool:
        """Whether the two normalized texts read alike, each placeholder paired one to one; the
        new pairs are kept only when they do."""
        page_values = PLACEHOLDER.findall(page)
        run_values = PLACEHOLDER.findall(run) if page_values else []
        if not page_values:
            return page == run
        if len(page_values) != len(run_values):
            return False
        if PLACEHOLDER.sub("\0", page) != PLACEHOLDER.sub("\0", run):
            return False
        new: dict[str, str] = {}
        taken: dict[str, str] = {}
        for mine, theirs in zip(page_values, run_values, strict=True):
            if mine.split("#")[0] != theirs.split("#")[0]:
                return False
            paired = self.forward.get(mine) or new.get(mine)
            owner = self.back.get(theirs) or taken.get(theirs)
            if (paired or theirs) != theirs or (owner or mine) != mine:
                return False
            new[mine] = theirs
            taken[theirs] = mine
        self.forward.update(new)
        self.back.update(taken)
        return True

    def could_pair(self, page: str, run: str) -> bool:
        """`same` without keeping anything: a trial."""
        saved = dict(self.forward), dict(self.back)
        try:
            return self.same(page, run)
        finally:
            self.forward, self.back = saved

    def snapshot(self) -> tuple[dict[str, str], dict[str, str]]:
        return dict(self.forward), dict(self.back)

    def restore(self, saved: tuple[dict[str, str], dict[str, str]]) -> None:
        self.forward, self.back = dict(saved[0]), dict(saved[1])

    def as_page(self, run: str) -> str:
        """The run's text with each paired placeholder written as the page's."""
        return PLACEHOLDER.sub(lambda m: self.back.get(m.group(), m.group()), run)
