"""Compare two runs of the same steps: exit status, stdout and stderr, after normalization.

Each side is normalized with its own bindings, walking the steps in order, so a placeholder's
number says where that value first appeared in its run. Equal normalized text therefore means
equal output AND equal relationships; when a line differs only in placeholder numbers, the
report names the bindings that differ (the recorded eth0 paired with IF#4, the replay's with
IF#6) instead of leaving the reader to spot a digit in a diff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from generator.compare import jsondata
from generator.compare.normalize import PLACEHOLDER, Bindings, Normalizer, Rule
from generator.compare.sides import REPLAY, Sides
from generator.compare.views import netns_view
from generator.transcript.redact import BUILTIN, Redactor
from generator.transcript.state_names import Names

STREAMS = ("stdout", "stderr")


class StepHeadLike(Protocol):
    """What comparing needs of a step once its output is normalized."""

    @property
    def index(self) -> int: ...
    @property
    def command(self) -> str: ...
    @property
    def exit(self) -> int: ...


class StepLike(StepHeadLike, Protocol):
    """What comparing needs of a step; transcript.StepRecord has it."""

    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...


# Commands whose output lists things in an order set by volatile values: brctl lists a bridge's
# ports in directory order, which follows the random veth names; the neighbour and forwarding
# tables come in hash order, which follows the addresses and MACs of the run.
UNORDERED = (
    re.compile(r"\bbrctl\s+show\b"),
    re.compile(r"\bip\s+(?:-\S+\s+)*neigh(?:bour|bor)?\b"),
    re.compile(r"\bbridge\s+(?:-\S+\s+)*fdb\b"),
    re.compile(r"\barp\s+-\S*n"),
)


@dataclass(frozen=True)
class CompareOptions:
    """How to normalize: a recipe's own rules, the JSON paths to ignore, the commands whose
    output is compared as a set of words, and the secrets redacted first."""

    rules: tuple[Rule, ...] = ()
    ignore: tuple[jsondata.Path, ...] = ()
    unordered: tuple[re.Pattern[str], ...] = UNORDERED
    # Both sides, before normalizing: a golden holds markers where the replay sees real secrets,
    # and an older golden may hold the secrets themselves; either way the two compare alike.
    redactor: Redactor = BUILTIN
    sides: Sides = REPLAY  # how the lines name the two runs


@dataclass(frozen=True)
class BindingDiff:
    """Where the two runs put different placeholders in the same place of the same line."""

    recorded: str  # placeholder in the recorded run, e.g. IF#4
    replayed: str
    recorded_value: str | None  # the real value behind it
    replayed_value: str | None

    def describe(self, sides: Sides = REPLAY) -> str:
        values = (self.recorded, self.recorded_value, self.replayed, self.replayed_value)
        return sides.placeholder(*values)


@dataclass(frozen=True)
class StreamDiff:
    stream: str
    lines: tuple[str, ...]  # a unified diff of the normalized text, without colour


@dataclass(frozen=True)
class StepDrift:
    index: int
    command: str
    reasons: tuple[str, ...]
    diffs: tuple[StreamDiff, ...] = ()
    bindings: tuple[BindingDiff, ...] = ()


@dataclass
class Comparison:
    """The outcome of comparing every step of one transcript with another run of it."""

    compared: int = 0
    drifts: list[StepDrift] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The observed graphs differ: one line per changed edge (generator/compare/graph.py).
    state: list[str] = field(default_factory=list)
    # The reachability matrices differ: one line per changed pair (generator/compare/reachdrift.py).
    reach: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts and not self.state and not self.reach


class Side:
    """One run's normalizer: stdout and stderr of every step go through it in order."""

    def __init__(self, options: CompareOptions, names: Names | None = None) -> None:
        self.bindings = Bindings(canonical=names or None)
        self.normalizer = Normalizer(options.rules, self.bindings)
        self.ignore = options.ignore

    def normalize(self, text: str) -> str:
        if not text:
            return text
        data = jsondata.parse_json(text)
        if data is not None:
            return jsondata.canonical(data, self.normalizer, self.ignore)
        return self.normalizer.text(text)

    def normalize_all(self, texts: Sequence[str], views: Sequence[str] = ()) -> list[str]:
        """Each text normalized, in order, as normalize() would, in a few large regex passes.
        views[i], when given, is the namespace text i was seen from (normalize.netns_view)."""
        out = list(texts)
        seen_from = list(views) or [""] * len(out)
        batch: list[int] = []
        for i, text in enumerate(texts):
            if not text:
                continue
            data = jsondata.parse_json(text)
            if data is None:
                batch.append(i)
                continue
            self._flush(batch, out, seen_from)
            out[i] = jsondata.canonical(data, self.normalizer, self.ignore)
        self._flush(batch, out, seen_from)
        return out

    def _flush(self, batch: list[int], out: list[str], seen_from: list[str]) -> None:
        if batch:
            views = [seen_from[i] for i in batch]
            for i, text in zip(
                batch, self.normalizer.many([out[i] for i in batch], views), strict=False
            ):
                out[i] = text
            batch.clear()


@dataclass(slots=True)
class StepHead:
    """A step without its output: light to send from another process."""

    index: int
    phase: str
    command: str
    exit: int


@dataclass(frozen=True)
class NormalizedRun:
    """One run ready to compare: its steps, their (stdout, stderr) normalized in order, and the
    bindings that normalizing made."""

    steps: Sequence[StepHeadLike]
    texts: list[str]  # stdout and stderr of step i at 2i and 2i+1
    bindings: Bindings


def normalize_run(
    steps: Sequence[StepLike],
    options: CompareOptions = CompareOptions(),
    names: Names | None = None,
) -> NormalizedRun:
    """The steps' output normalized in order; `names`: what the run's snapshots call its
    volatile values (state_names.names)."""
    side = Side(options, names)
    clean = options.redactor.text
    texts = [clean(text) for step in steps for text in (step.stdout, step.stderr)]
    views = [netns_view(s.command, getattr(s, "role", None)) for s in steps for _ in (0, 1)]
    heads = _redacted_heads(steps, clean)
    return NormalizedRun(heads, side.normalize_all(texts, views), side.bindings)


def _redacted_heads(
    steps: Sequence[StepLike], clean: Callable[[str], str]
) -> Sequence[StepHeadLike]:
    """The steps as comparing sees them: a command that held a secret is recorded with its
    marker, so the replayed one (with the real value) must read the same to pair and match."""
    if all(clean(s.command) == s.command for s in steps):
        return steps  # the common case: no copies
    return [StepHead(s.index, _phase(s), clean(s.command), s.exit) for s in steps]


def _phase(step: StepHeadLike) -> str:
    return str(getattr(step, "phase", "main"))


def _pairs(
    recorded: Sequence[StepHeadLike], replayed: Sequence[StepHeadLike]
) -> list[tuple[int, int]]:
    """Which recorded step to compare with which replayed one; -1 marks a step without partner.

    Within each phase (main, then teardown) steps pair by position while the commands agree;
    where a recipe gained or lost steps, commands are aligned as a diff aligns lines, so one
    inserted step shows as one extra step instead of shifting every step after it.
    """
    pairs: list[tuple[int, int]] = []
    for phase in dict.fromkeys([_phase(s) for s in recorded] + [_phase(s) for s in replayed]):
        old = [i for i, s in enumerate(recorded) if _phase(s) == phase]
        new = [i for i, s in enumerate(replayed) if _phase(s) == phase]
        old_commands = [recorded[i].command for i in old]
        new_commands = [replayed[j].command for j in new]
        if old_commands == new_commands:
            pairs += list(zip(old, new, strict=False))
            continue
        matcher = difflib.SequenceMatcher(None, old_commands, new_commands, autojunk=False)
        for _tag, i1, i2, j1, j2 in matcher.get_opcodes():
            common = min(i2 - i1, j2 - j1)  # equal, or replaced: compare side by side
            pairs += list(zip(old[i1 : i1 + common], new[j1 : j1 + common], strict=False))
            pairs += [(i, -1) for i in old[i1 + common : i2]]
            pairs += [(-1, j) for j in new[j1 + common : j2]]
    return pairs


def compare(
    recorded: Sequence[StepLike],
    replayed: Sequence[StepLike],
    options: CompareOptions = CompareOptions(),
    names: tuple[Names | None, Names | None] = (None, None),
) -> Comparison:
    """Compare step by step, by position within each phase. Missing and extra steps are drift.
    names: each side's canonical names, from its own snapshots."""
    old, new = (
        normalize_run(recorded, options, names[0]),
        normalize_run(replayed, options, names[1]),
    )
    return compare_runs(old, new, options)


def compare_runs(
    old_run: NormalizedRun, new_run: NormalizedRun, options: CompareOptions = CompareOptions()
) -> Comparison:
    """compare() of two runs already normalized (each perhaps in a process of its own)."""
    result = Comparison()
    recorded, replayed = old_run.steps, new_run.steps
    before, after = old_run.texts, new_run.texts
    for i, j in _pairs(recorded, replayed):
        if j < 0:
            old = recorded[i]
            result.drifts.append(
                StepDrift(old.index, old.command, (f"the step did not run in {options.sides.new}",))
            )
            continue
        if i < 0:
            new = replayed[j]
            result.drifts.append(
                StepDrift(new.index, new.command, (f"a step {options.sides.old} does not have",))
            )
            continue
        result.compared += 1
        old_texts, new_texts = before[2 * i : 2 * i + 2], after[2 * j : 2 * j + 2]
        if any(p.search(replayed[j].command) for p in options.unordered):
            old_texts, new_texts = _as_sets(old_texts, new_texts)
        elif old_texts != new_texts:
            pairs = zip(old_texts, new_texts, strict=True)
            old_texts = [b if _reordered(a, b) else a for a, b in pairs]
        drift = compare_step(recorded[i], replayed[j], old_texts, new_texts, options.sides)
        if drift is not None:
            result.drifts.append(_with_bindings(drift, old_run.bindings, new_run.bindings))
    return result


def _as_sets(before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """Texts whose words are the same, in any order, count as equal; others stay as they are."""
    same = [sorted(a.split()) == sorted(b.split()) for a, b in zip(before, after, strict=False)]
    return [b if s else a for a, b, s in zip(before, after, same, strict=False)], after


def _reordered(before: str, after: str) -> bool:
    """The same lines, some in other places, each moved one naming a veth: a listing whose
    order follows the random veth names (a directory, a member list) changed nothing. A line
    and the indented lines under it move as one."""
    if len(before) != len(after) or "VETH" not in before:
        return False
    old, new = _blocks(before), _blocks(after)
    if sorted(old) != sorted(new):
        return False
    return all(a == b or ("VETH" in a and "VETH" in b) for a, b in zip(old, new, strict=True))


def _blocks(text: str) -> list[str]:
    blocks: list[str] = []
    for line in text.split("\n"):
        if blocks and line[:1] in (" ", "\t"):
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
    return blocks


def compare_step(
    old: StepHeadLike,
    new: StepHeadLike,
    before: Sequence[str],
    after: Sequence[str],
    sides: Sides = REPLAY,
) -> StepDrift | None:
    """One step's drift, from its normalized (stdout, stderr) on both sides; None if it holds."""
    reasons: list[str] = []
    diffs: list[StreamDiff] = []
    if old.command != new.command:
        reasons.append("the command differs")
    if old.exit != new.exit:
        reasons.append(sides.changed("exit status", old.exit, new.exit))
    for stream, a, b in zip(STREAMS, before, after, strict=False):
        if a == b:
            continue
        reasons.append(f"{stream} differs")
        diffs.append(
            StreamDiff(
                stream, tuple(unified(jsondata.pretty(a), jsondata.pretty(b), stream, sides))
            )
        )
    if not reasons:
        return None
    return StepDrift(new.index, new.command, tuple(reasons), tuple(diffs))


def _with_bindings(drift: StepDrift, old: Bindings, new: Bindings) -> StepDrift:
    found: list[BindingDiff] = []
    for diff in drift.diffs:
        removed = [line[1:] for line in diff.lines if line[:1] == "-" and line[:3] != "---"]
        added = [line[1:] for line in diff.lines if line[:1] == "+" and line[:3] != "+++"]
        found += binding_diffs("\n".join(removed), "\n".join(added), old, new)
    return StepDrift(drift.index, drift.command, drift.reasons, drift.diffs, tuple(_unique(found)))


def unified(before: str, after: str, stream: str, sides: Sides = REPLAY) -> list[str]:
    return list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=f"{sides.old_label} {stream}",
            tofile=f"{sides.new_label} {stream}",
            lineterm="",
            n=2,
        )
    )


def binding_diffs(before: str, after: str, old: Bindings, new: Bindings) -> list[BindingDiff]:
    """Placeholders that differ between lines that are otherwise the same.

    Lines are paired where the diff replaces a block with one of the same size; two lines are
    'otherwise the same' when they match with every placeholder number erased.
    """
    found: list[BindingDiff] = []
    a, b = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 != j2 - j1:
            continue
        for line_a, line_b in zip(a[i1:i2], b[j1:j2], strict=False):
            if PLACEHOLDER.sub(r"\1#", line_a) != PLACEHOLDER.sub(r"\1#", line_b):
                continue
            pairs = zip(PLACEHOLDER.finditer(line_a), PLACEHOLDER.finditer(line_b), strict=False)
            for left, right in pairs:
                if left.group() != right.group():
                    found.append(
                        BindingDiff(
                            left.group(),
                            right.group(),
                            old.value(left.group()),
                            new.value(right.group()),
                        )
                    )
    return found


def _unique(items: Iterable[BindingDiff]) -> list[BindingDiff]:
    seen: dict[tuple[str, str], BindingDiff] = {}
    for item in items:
        seen.setdefault((item.recorded, item.replayed), item)
    return list(seen.values())
