"""What a lab page shows, built from one transcript: the renderers (Markdown, HTML) read only this.

Keeping the page model apart from the transcript format means a new output format never has to
know how transcripts are stored, and the normalized view is applied in one place.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import UserError
from generator.pages import diagram
from generator.pages.tutorial_blocks import (
    PageBlock,
    blocks_in,
    blocks_of,
    is_tutorial,
    not_typed,
    summary_of,
)
from generator.transcript import StepRecord, Transcript
from generator.transcript.expectation import Expectation
from generator.transcript.records import ReachRecord

Transform = Callable[[str], str]


@dataclass(frozen=True)
class Param:
    name: str
    value: str
    help: str


@dataclass(frozen=True)
class PageStep:
    index: int
    phase: str
    explanation: str
    command: str
    prompt: str  # e.g. "root@lab:~# "; the host the command ran on
    stdout: str
    stderr: str
    exit: int
    duration: float
    verdict: str  # "ok", "expected-failure" or "FAIL"
    checks: tuple[str, ...]  # the expectation in words
    problems: tuple[str, ...]
    interactive: str | None  # the spawned program of an interactive step
    container: str | None  # the container an interactive step enters, when we can tell
    timed_out: bool = False
    blocks: tuple[int, ...] = ()  # a tutorial's: the page blocks the step stands in
    not_typed: tuple[str, ...] = ()  # a tutorial session's lines not typed, with why


@dataclass(frozen=True)
class StackDifference:
    """Steps that differ on another stack for one reason; `why` is "" when nothing explains
    them yet (docs/stacks.toml). Each step: its number there, its command's first line, and
    the anchor of the same step on this page ("" when this page has no such step)."""

    why: str
    steps: tuple[tuple[int, str, str], ...]
    reasons: tuple[str, ...] = ()  # what differs, for an unexplained step


@dataclass(frozen=True)
class OtherStack:
    """What a lab does on a stack other than the one its page shows."""

    title: str  # Debian 13
    holds: str  # ✔, ✘ or – (generator/pages/stacks.py)
    recorded: str  # "Debian 13, Docker 26.1"; "" when not recorded there
    differences: tuple[StackDifference, ...] = ()


@dataclass(frozen=True)
class LabPage:
    slug: str  # file name without extension
    title: str
    description: str
    recipe: str | None
    params: tuple[Param, ...]
    topology: dict[str, Any]
    hosts: tuple[str, ...]  # the recipe's host roles: nodes `on` one are drawn inside it
    environment: tuple[tuple[str, str], ...]
    steps: tuple[PageStep, ...]
    status: str
    complete: bool
    normalized: bool
    # The diagram drawn from the run's snapshots; None: drawn from `topology`, as declared.
    observed: diagram.Graph | None = None
    # What the recipe declares but the run did not observe (generator/compare/declared.py).
    topology_warnings: tuple[str, ...] = ()
    reason: str = ""  # why the run did not pass, as its result says
    reaches: tuple[ReachRecord, ...] = ()  # the `#@ reach` matrices, drawn after their steps
    blocks: tuple[PageBlock, ...] = ()  # a tutorial's run: the verdict of each page block
    block_summary: str = ""  # "6 of 7 blocks hold on Debian 12, Docker 28.2"
    # Which stacks the lab holds on, (title, ✔ ✘ or –), this page's first; () when the page
    # was made from files named one by one rather than a folder of goldens.
    stacks: tuple[tuple[str, str], ...] = ()
    other_stacks: tuple[OtherStack, ...] = ()  # how the other stacks' runs differ

    def reaches_after(self, step: int) -> tuple[ReachRecord, ...]:
        return tuple(r for r in self.reaches if r.after_step == step)

    @property
    def failed_verdict(self) -> str:
        """One line for a whole run that did not pass (a leftover, a failed step); "" else."""
        if not self.complete or self.status == "passed":
            return ""
        reason = self.reason.rstrip(".")
        return f"The recorded run {self.status}" + (f": {reason}" if reason else "")

    @property
    def graph(self) -> diagram.Graph | None:
        """The topology diagram: from observation when the run recorded snapshots, else from
        the declared topology; None when there is neither."""
        if self.observed is not None:
            return self.observed
        return diagram.graph_from(self.topology, self.hosts) if self.topology else None

    @property
    def main_steps(self) -> tuple[PageStep, ...]:
        return tuple(s for s in self.steps if s.phase == "main")

    @property
    def teardown_steps(self) -> tuple[PageStep, ...]:
        return tuple(s for s in self.steps if s.phase == "teardown")


def firewall_rules(topology: dict[str, Any]) -> tuple[str, ...]:
    """The iptables rules a topology declares, as commands."""
    return tuple(
        f"iptables -t {rule.get('table', 'filter')} {rule['rule']}"
        for rule in topology.get("rules", [])
    )


def describe_expectation(expect: Expectation) -> tuple[str, ...]:
    """The expectation as short phrases: `exits 0`, `output contains " 0% packet loss"`."""
    if expect.exit == "nonzero":
        words = ["fails (non-zero exit)"]
    elif expect.exit == "any":
        words = ["any exit status"]
    else:
        words = [f"exits {expect.exit}"]
    words += [f"output contains {text!r}" for text in expect.output]
    words += [f"output lacks {text!r}" for text in expect.no_output]
    words += [f"output matches /{regex}/" for regex in expect.match]
    if any(s.compare and (s.output or "").strip() and not s.skip for s in expect.shown):
        words.append("output read against the page")
    return tuple(words)


_EXEC_FLAGS_WITH_VALUE = {"-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file"}


def container_of(spawn: str) -> str | None:
    """The container that `docker exec [flags] NAME cmd` enters; None for anything else."""
    try:
        words = shlex.split(spawn)
    except ValueError:
        return None
    if words[:1] == ["sudo"]:
        words = words[1:]
    if words[:2] != ["docker", "exec"]:
        return None
    rest = iter(words[2:])
    for word in rest:
        if word in _EXEC_FLAGS_WITH_VALUE:
            next(rest, None)
        elif not word.startswith("-"):
            return word
    return None


def _prompt(user: str, host: str) -> str:
    sign = "#" if user in ("", "root") else "$"
    return f"{user or 'root'}@{host or 'localhost'}:~{sign} "


def page_step(record: StepRecord, prompt: str, transform: Transform) -> PageStep:
    return PageStep(
        index=record.index,
        phase=record.phase,
        explanation=record.explanation.strip(),
        command=record.command.rstrip("\n"),
        prompt=prompt,
        stdout=transform(record.stdout),
        stderr=transform(record.stderr),
        exit=record.exit,
        duration=record.duration,
        verdict=record.verdict,
        checks=describe_expectation(record.expect),
        problems=record.problems,
        interactive=record.interactive,
        container=container_of(record.interactive) if record.interactive else None,
        timed_out=record.timed_out,
        blocks=blocks_in(record),
        not_typed=not_typed(record),
    )


def _environment(transcript: Transcript) -> tuple[tuple[str, str], ...]:
    facts = transcript.header.facts
    rows = [
        ("Host", facts.host),
        ("Distribution", facts.distribution),
        ("Kernel", facts.kernel),
        ("iproute2", facts.iproute2),
        ("Docker", facts.docker),
        ("busybox", facts.busybox),
        ("Recorded", transcript.header.started),
        ("Recorder", transcript.header.recorder),
    ]
    if facts.iptables:  # recorded since the stacks came; older transcripts lack it
        rows.insert(6, ("iptables", facts.iptables))
    if transcript.outcome:
        rows.append(("Run time", f"{transcript.outcome.duration:.1f} s"))
    return tuple((label, value or "not recorded") for label, value in rows)


def slug_of(path: str) -> str:
    """A file name stem safe for a page: `veth-pair-20261129T050102Z`."""
    name = Path(path).name.removesuffix(".partial")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return _safe(stem)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "lab"


def assign_slugs(transcripts: Sequence[Transcript]) -> dict[str, str]:
    """Page names by transcript path: the recipe's name when it has one run in the set (so
    golden transcripts give docs/labs/veth-pair.md, whatever their file is called), else the
    file's stem, which keeps several runs of one recipe apart."""
    runs = Counter(t.header.recipe for t in transcripts if t.header.recipe)
    return {
        t.path: _safe(t.header.recipe)
        if t.header.recipe and runs[t.header.recipe] == 1
        else slug_of(t.path)
        for t in transcripts
    }


def build(
    transcript: Transcript,
    recipe_dirs: Iterable[Path] = (),
    transform: Transform | None = None,
    slug: str | None = None,
) -> LabPage:
    """The page for one transcript; the recipe, when known, supplies prose, help and topology.
    A recipe that has since gone leaves a page of the run alone; a broken one is an error."""
    from generator.compare.for_transcript import recipe_for

    header = transcript.header
    title, description = f"Lab script {Path(header.source).name or 'from stdin'}", ""
    params = tuple(Param(k, v, "") for k, v in header.params.items())
    topology: dict[str, Any] = {}
    hosts: tuple[str, ...] = ()
    recipe = recipe_for(header, recipe_dirs)
    if recipe is not None:
        title, description = recipe.title, recipe.description
        helps = {spec.name: spec.help for spec in recipe.params}
        params = tuple(Param(k, v, helps.get(k, "")) for k, v in header.params.items())
        topology = _topology(recipe, header.params)
        hosts = recipe.hosts
    tutorial = is_tutorial(transcript)
    if tutorial:
        title = f"Tutorial {Path(header.source).name}"
    facts = header.facts
    default_prompt = _prompt(facts.user, facts.host)
    steps = tuple(
        page_step(s, _prompt(facts.user, s.role) if s.role else default_prompt, transform or str)
        for s in transcript.steps
    )
    return LabPage(
        slug=slug or slug_of(transcript.path or header.recipe or "lab"),
        title=title,
        description=description,
        recipe=header.recipe,
        params=params,
        topology=topology,
        hosts=hosts,
        environment=_environment(transcript),
        steps=steps,
        status=transcript.status,
        complete=transcript.complete,
        normalized=transform is not None,
        reason=transcript.outcome.reason if transcript.outcome else "",
        reaches=transcript.reaches,
        blocks=blocks_of(transcript) if tutorial else (),
        block_summary=summary_of(transcript) if tutorial else "",
        **_observation(transcript, topology, hosts),
    )


def _observation(transcript: Transcript, topology: dict[str, Any], hosts: tuple[str, ...]) -> Any:
    """The observed diagram and the declared topology's mismatches, as LabPage fields."""
    from generator.compare.declared import check_declared
    from generator.pages.observed import graph_from_snapshots

    graph = graph_from_snapshots(transcript.snapshots)
    if graph is None:
        return {}
    warnings = check_declared(topology, transcript.snapshots, hosts) if topology else []
    return {"observed": graph, "topology_warnings": tuple(warnings)}


def _topology(recipe: Any, params: dict[str, str]) -> dict[str, Any]:
    from generator.recipes.catalog import resolve
    from generator.recipes.topology import render_topology

    try:
        return render_topology(recipe.directory, resolve(recipe, params))
    except UserError:
        return {}  # parameters the recipe no longer accepts: no diagram rather than no page
